package io.avatarserver.avatar;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;

/**
 * One upload's bytes on their way in. Write with backpressure ({@link #writeQueueFull()} and
 * {@link #drainHandler}); {@link #end()} makes what was written durable (on disk, fsynced) and
 * fails if it cannot. Then exactly one of {@link #publish} or {@link #discard} follows; discard is
 * also the answer to every failure, and may be called at any time, any number of times.
 */
public interface StagedObject extends WriteStream<Buffer> {

  /**
   * Writes {@code bytes} over bytes already written at {@code position}, for a container header whose
   * value is known only at the end (a RIFF size). Call after the last write and before {@link #end()}.
   * Fails if the range was not written.
   */
  Future<Void> overwrite(long position, Buffer bytes);

  /** The lower-case hex SHA-256 of the staged bytes as stored, read back; after {@link #end()}. */
  Future<String> sha256();

  /**
   * Moves the durable bytes atomically under a new unique key ending in {@code extension} and makes
   * the move itself durable; only then succeeds with the key. Never replaces an existing object.
   * Fails, leaving nothing published, if the bytes were not ended first or the backend fails;
   * the staged bytes are discarded in that case.
   */
  Future<String> publish(String extension);

  /**
   * As {@link #publish(String)}, told the lower-case hex SHA-256 of the bytes as stored (the upload
   * pipeline computed it while writing them): a backend that sends the bytes on has the receiver
   * verify them against it.
   */
  default Future<String> publish(String extension, String sha256) {
    return publish(extension);
  }

  /** Deletes the staged bytes, waiting for writes in flight first. Succeeds when nothing is left. */
  Future<Void> discard();
}
