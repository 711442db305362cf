package io.avatarserver.avatar;

/**
 * An expected refusal or failure of a use case: its {@link Failure}, a detail in the server's own
 * words for the client, and, where it applies, the seconds after which trying again makes sense.
 * Carries no stack trace: these are outcomes on hot paths, not bugs.
 */
public final class AvatarException extends RuntimeException {

  private final Failure failure;
  private final long retryAfterSeconds;

  public AvatarException(Failure failure, String detail, long retryAfterSeconds) {
    super(detail, null, false, false);
    this.failure = failure;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public Failure failure() {
    return failure;
  }

  public String detail() {
    return getMessage();
  }

  /** Seconds the caller should wait before retrying; 0 when the failure says nothing about it. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
