package io.avatarserver.avatar;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A stored object opened for reading: its length, and its bytes either as a local file that can be
 * sent without copying them through the JVM ({@link LocalFile}), as a stream ({@link Streamed}, for a
 * backend such as an object store), or not at all: a URL the client fetches them from ({@link Redirect}). Whoever opened it closes it, sent or not; closing twice is harmless.
 */
public sealed interface StoredContent permits StoredContent.LocalFile, StoredContent.Streamed, StoredContent.Redirect {

  /** The number of bytes. */
  long length();

  /** Releases what opening took (a file handle, a connection); never blocks. */
  void close();

  /** The bytes are {@code length} bytes of {@code channel} from position 0, sendable zero-copy. */
  record LocalFile(FileChannel channel, long length) implements StoredContent {
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException ignored) {
        // A read-only channel: nothing to lose.
      }
    }
  }

  /**
   * The bytes as a paused stream of {@code length} bytes; {@code release} is what closing runs. With
   * {@code part} (may be null), a byte range of the same object can be opened on its own, so that a
   * range request does not read the object from its first byte.
   */
  record Streamed(ReadStream<Buffer> stream, long length, Runnable release, Part part) implements StoredContent {

    public Streamed(ReadStream<Buffer> stream, long length, Runnable release) {
      this(stream, length, release, null);
    }

    @Override
    public void close() {
      release.run();
    }
  }

  /** Opens {@code length} bytes from {@code offset} of an object already opened whole. */
  @FunctionalInterface
  interface Part {
    Future<Streamed> open(long offset, long length);
  }

  /**
   * The bytes are at {@code uri} (an object store's presigned URL), for the client to fetch; its length is
   * not known here ({@code -1}). Holds nothing.
   */
  record Redirect(java.net.URI uri) implements StoredContent {
    @Override
    public long length() {
      return -1;
    }

    @Override
    public void close() {
    }
  }
}
