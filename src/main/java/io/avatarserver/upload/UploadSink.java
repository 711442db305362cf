package io.avatarserver.upload;

import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.upload.image.ImageParser;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.WriteStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Where a request body is piped: counts bytes against the cap, hashes them (SHA-256), checks the
 * first bytes against the declared type, and writes them to the {@link StagedObject}.
 *
 * <p>Writes are adaptive: a chunk goes to the file at once when no write is in flight; chunks that
 * arrive meanwhile are coalesced, up to {@code writeBufferBytes}, into the next write. A slow client
 * therefore holds no more than the chunk being written, while a fast one gets few large writes
 * (measured: one file write per 8 KiB network chunk was the bottleneck). With a write in flight and
 * a full coalescing buffer, {@link #writeQueueFull()} is true and the pipe pauses the request: memory
 * per upload stays below about {@code 2 × writeBufferBytes} whatever the body's size. Coalescing
 * buffers come out of a {@link WriteBudget} shared by all uploads; without a share, an upload keeps
 * one waiting chunk and pauses its client, so thousands of uploads in flight stay within the heap.
 *
 * <p>Every refusal fails the next {@link #write} or {@link #end()} with a {@code AvatarException};
 * the caller then discards the staged object.
 */
public final class UploadSink implements WriteStream<Buffer> {

  private static final Logger LOG = LoggerFactory.getLogger(UploadSink.class);
  private static final io.netty.buffer.ByteBufAllocator ALLOCATOR = io.netty.buffer.PooledByteBufAllocator.DEFAULT;
  private static final int COALESCING_HEADROOM = 16 * 1024;

  private final StagedObject staged;
  private final ImageType declared;
  private final UploadLimits limits;
  private final long userId;
  private final MessageDigest sha256;
  private final byte[] head = new byte[ImageType.SNIFF_BYTES];

  private int headLength;
  private boolean typeChecked;
  private final ImageParser parser;
  private long received;
  private long stored;
  private final WriteBudget budget;
  private final UploadEvents events;
  private Buffer pending;
  private boolean pendingOwned;
  /**
   * The pooled off-heap memory behind {@link #pending} when it coalesces; non-null exactly when this
   * upload holds a share ({@code writeBufferBytes}) of the budget.
   */
  private io.netty.buffer.ByteBuf pendingDirect;
  private boolean writing;
  private Throwable failure;
  private Handler<Void> drainHandler;
  private Promise<Void> idle;
  private String digest;

  public UploadSink(StagedObject staged, ImageType declared, UploadLimits limits, long userId, WriteBudget budget,
                    UploadEvents events) {
    this.events = events;
    this.staged = staged;
    this.budget = budget;
    this.declared = declared;
    this.limits = limits;
    this.userId = userId;
    this.parser = ImageParser.forType(declared, limits.image());
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public Future<Void> write(Buffer chunk) {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    long before = received;
    received += chunk.length();
    events.received(chunk.length());
    if (received > limits.maxBytes()) {
      return fail(Failure.AVATAR_TOO_LARGE.exception(
        "The avatar is larger than the limit of " + limits.maxBytes() + " bytes"));
    }
    Buffer toParse = chunk;
    if (!typeChecked) {
      int taken = headLength;
      if (!checkHead(chunk)) {
        return fail(mismatch());
      }
      if (!typeChecked) {
        return Future.succeededFuture(); // fewer than SNIFF_BYTES so far: held in head
      }
      // The type is confirmed: the parser starts with the held head, then this chunk's rest.
      int fromChunk = head.length - taken;
      toParse = Buffer.buffer(head.length + chunk.length() - fromChunk).appendBytes(head)
        .appendBuffer(chunk, fromChunk, chunk.length() - fromChunk);
    }
    Buffer out;
    try {
      out = parser.feed(toParse);
    } catch (AvatarException refused) {
      return fail(refused);
    }
    if (received / limits.progressLogBytes() > before / limits.progressLogBytes() && LOG.isDebugEnabled()) {
      LOG.debug("upload user={} received={} bytes", userId, received);
    }
    if (out.length() > 0) {
      stored += out.length();
      sha256.update(((BufferInternal) out).getByteBuf().nioBuffer());
      enqueue(out);
      if (!writing) {
        flush();
      }
    }
    return Future.succeededFuture();
  }

  private void enqueue(Buffer chunk) {
    if (pending == null) {
      if (writing && chunk.length() < limits.writeBufferBytes() && budget.tryReserve(shareBytes())) {
        // A write is in flight: gather what arrives meanwhile into one larger write.
        // Off-heap and pooled: the file write needs no copy into a temporary direct buffer, and the
        // memory goes back to the pool (not to the garbage collector) once written.
        // (Vert.x wraps it as unreleasable: the raw ByteBuf is kept to release it.)
        pendingDirect = ALLOCATOR.directBuffer(shareBytes());
        pending = BufferInternal.buffer(pendingDirect).appendBuffer(chunk);
        pendingOwned = true;
      } else {
        // Written next as it is; without a share of the budget, writeQueueFull() pauses the client now.
        pending = chunk;
        pendingOwned = false;
      }
      return;
    }
    if (!pendingOwned) {
      // Only the chunk or two already on their way when the pipe paused: an exact-size buffer.
      pending = Buffer.buffer(pending.length() + chunk.length()).appendBuffer(pending);
      pendingOwned = true;
    }
    pending.appendBuffer(chunk);
  }

  private void flush() {
    Buffer out = pending;
    io.netty.buffer.ByteBuf written = pendingDirect;
    pending = null;
    pendingDirect = null;
    writing = true;
    staged.write(out).onComplete(ar -> {
      writing = false;
      returnShare(written);
      if (ar.failed()) {
        failure = failure == null ? ar.cause() : failure;
      }
      if (failure != null) {
        // Nothing more is written: what waits is dropped, and its share returned.
        returnShare(pendingDirect);
        pendingDirect = null;
        pending = null;
      } else if (pending != null) {
        flush();
      }
      settle();
    });
  }

  /**
   * The size of a coalescing buffer, and of the budget share it takes: {@code writeBufferBytes} and room
   * for the chunk that crosses that mark plus one more already on its way when the pipe pauses (a body
   * chunk is at most 8 KiB). Without the room, crossing the mark made the pooled buffer double its
   * capacity, copying all it held, in about a third of the writes that filled it.
   */
  private int shareBytes() {
    return limits.writeBufferBytes() + COALESCING_HEADROOM;
  }

  /** Gives a coalescing buffer back to the pool and its share back to the budget; null: nothing held. */
  private void returnShare(io.netty.buffer.ByteBuf direct) {
    if (direct != null) {
      direct.release();
      budget.release(shareBytes());
    }
  }

  /** After a write completes: wake a paused pipe once there is room, and an {@link #end()} once idle. */
  private void settle() {
    Handler<Void> drain = drainHandler;
    if (drain != null && !writeQueueFull()) {
      drainHandler = null;
      drain.handle(null);
    }
    Promise<Void> waiting = idle;
    if (waiting != null && (!writing || failure != null)) {
      idle = null;
      if (failure != null) {
        waiting.fail(failure);
      } else {
        waiting.complete();
      }
    }
  }

  /** Copies leading bytes until the signature can be judged; false when they contradict the declared type. */
  private boolean checkHead(Buffer chunk) {
    int take = Math.min(chunk.length(), head.length - headLength);
    chunk.getBytes(0, take, head, headLength);
    headLength += take;
    if (headLength < head.length) {
      return true;
    }
    typeChecked = true;
    return ImageType.sniff(head, headLength) == declared;
  }

  private Throwable mismatch() {
    ImageType actual = ImageType.sniff(head, headLength);
    return actual == null
      ? Failure.UNSUPPORTED_TYPE.exception("The content is not a JPEG, PNG, GIF or WebP image")
      : Failure.CONTENT_TYPE_MISMATCH.exception(
          "Declared " + declared.mediaType() + " but the content is " + actual.mediaType());
  }

  private Future<Void> fail(Throwable cause) {
    failure = cause;
    return Future.failedFuture(cause);
  }

  @Override
  public Future<Void> end() {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    if (received < limits.minBytes()) {
      return fail(Failure.AVATAR_TOO_SMALL.exception(
        "The avatar has " + received + " bytes; the minimum is " + limits.minBytes()));
    }
    if (!typeChecked && ImageType.sniff(head, headLength) != declared) {
      return fail(mismatch());
    }
    List<ImageParser.Patch> patches;
    try {
      if (!typeChecked) {
        // A body shorter than the signature window (possible only with minBytes below it).
        Buffer out = parser.feed(Buffer.buffer().appendBytes(head, 0, headLength));
        stored += out.length();
        sha256.update(out.getBytes());
        enqueue(out);
      }
      patches = parser.finish();
    } catch (AvatarException refused) {
      return fail(refused);
    }
    String streamed = HexFormat.of().formatHex(sha256.digest());
    Future<Void> written = whenIdle();
    for (ImageParser.Patch patch : patches) {
      written = written.compose(v -> staged.overwrite(patch.position(), Buffer.buffer(patch.bytes())));
    }
    // Patched bytes were hashed before the patch: then the stored file is hashed again.
    return written
      .compose(v -> staged.end())
      .compose(v -> patches.isEmpty() ? Future.succeededFuture(streamed) : staged.sha256())
      .map(hash -> {
        digest = hash;
        return null;
      });
  }

  private Future<Void> whenIdle() {
    if (pending != null && !writing) {
      flush();
    }
    if (!writing) {
      return failure == null ? Future.succeededFuture() : Future.failedFuture(failure);
    }
    idle = Promise.promise();
    return idle.future();
  }

  /** Bytes received so far. */
  public long size() {
    return received;
  }

  /** Bytes stored: those received, less stripped metadata. */
  public long storedSize() {
    return stored;
  }

  /** Width read from the image header, or null before it was read. */
  public Integer width() {
    return parser.width();
  }

  public Integer height() {
    return parser.height();
  }

  /** Lower-case hex SHA-256 of the stored bytes; available once {@link #end()} has succeeded. */
  public String sha256() {
    return digest;
  }

  public ImageType type() {
    return declared;
  }

  @Override
  public boolean writeQueueFull() {
    return writing && pending != null && (pendingDirect == null || pending.length() >= limits.writeBufferBytes());
  }

  @Override
  public UploadSink drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
    return this;
  }

  @Override
  public UploadSink exceptionHandler(Handler<Throwable> handler) {
    return this;
  }

  @Override
  public UploadSink setWriteQueueMaxSize(int maxSize) {
    return this;
  }
}
