package io.avatarserver.avatar;

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
   * The bytes as a paused stream: {@code length} bytes of the object from its byte {@code offset} (0 when
   * opened whole; more when a backend read a range alone); {@code release} is what closing runs.
   */
  record Streamed(ReadStream<Buffer> stream, long offset, long length, Runnable release) implements StoredContent {

    /** The whole object, {@code length} bytes, as a stream. */
    public Streamed(ReadStream<Buffer> stream, long length, Runnable release) {
      this(stream, 0, length, release);
    }

    @Override
    public void close() {
      release.run();
    }
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
