package io.avatarserver.upload;

/** What the pipeline reports as it goes, for metrics; implementations must be cheap and thread-safe. */
public interface UploadEvents {

  /** Body bytes arrived (counted as they come, refused uploads included). */
  void received(long bytes);

  /** An upload ended: {@code created}, {@code replaced}, or the refusal or failure's name. */
  void finished(String outcome, long bytes, long durationNanos);
}
