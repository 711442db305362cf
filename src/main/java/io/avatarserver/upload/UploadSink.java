package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.upload.image.ImageParser;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Where a request body is piped: the upload pipeline, its stages wired in order. Each chunk goes
 * <ol>
 *   <li>through the {@link SizeCap} (more than {@code maxBytes}: refused at once),</li>
 *   <li>the {@link SignatureCheck} (the first bytes must be the declared type's magic bytes),</li>
 *   <li>the {@link ImageParser} of that type (reads the dimensions, refuses a broken image or a pixel
 *       flood, strips metadata: what comes out is what is stored),</li>
 *   <li>the {@link StoredHash} (SHA-256 of the stored bytes),</li>
 *   <li>and the {@link CoalescingWriter} into the {@link StagedObject}, with coalescing memory from the
 *       shared {@link WriteBudget}; its {@link #writeQueueFull()} is the pipe's backpressure.</li>
 * </ol>
 * At the {@link #end()}: the minimum size, a signature still undecided, the image's completeness;
 * then the parser's patches (a RIFF size known only then) are written over the file, the file is
 * made durable, and a patched file is hashed again from disk.
 *
 * <p>Every refusal fails the next {@link #write} or {@link #end()} with an {@code AvatarException};
 * the caller then discards the staged object.
 */
public final class UploadSink implements WriteStream<Buffer> {

  private static final Logger LOG = LoggerFactory.getLogger(UploadSink.class);

  private final StagedObject staged;
  private final ImageType declared;
  private final long userId;
  private final int progressLogBytes;
  private final UploadEvents events;
  private final SizeCap size;
  private final SignatureCheck signature;
  private final ImageParser parser;
  private final StoredHash hash = new StoredHash();
  private final CoalescingWriter writer;
  private long stored;
  private String digest;

  public UploadSink(StagedObject staged, ImageType declared, UploadLimits limits, long userId, WriteBudget budget,
                    UploadEvents events) {
    this.staged = staged;
    this.declared = declared;
    this.userId = userId;
    this.progressLogBytes = limits.progressLogBytes();
    this.events = events;
    this.size = new SizeCap(limits.maxBytes(), limits.minBytes());
    this.signature = new SignatureCheck(declared);
    this.parser = ImageParser.forType(declared, limits.image());
    this.writer = new CoalescingWriter(staged, limits.writeBufferBytes(), budget);
  }

  @Override
  public Future<Void> write(Buffer chunk) {
    Throwable failure = writer.failure();
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    long before = size.received();
    events.received(chunk.length());
    Buffer out;
    try {
      size.add(chunk.length());
      Buffer admitted = signature.admit(chunk);
      if (admitted == null) {
        return Future.succeededFuture(); // fewer than SNIFF_BYTES so far: held by the signature check
      }
      out = parser.feed(admitted);
    } catch (AvatarException refused) {
      return fail(refused);
    }
    long received = size.received();
    if (received / progressLogBytes > before / progressLogBytes && LOG.isDebugEnabled()) {
      LOG.debug("upload user={} received={} bytes", userId, received);
    }
    if (out.length() > 0) {
      store(out);
    }
    return Future.succeededFuture();
  }

  private void store(Buffer out) {
    stored += out.length();
    hash.update(out);
    writer.write(out);
  }

  private Future<Void> fail(AvatarException refused) {
    writer.fail(refused);
    return Future.failedFuture(refused);
  }

  @Override
  public Future<Void> end() {
    Throwable failure = writer.failure();
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    Buffer last;
    List<ImageParser.Patch> patches;
    try {
      size.end();
      Buffer held = signature.end();
      last = held == null ? null : parser.feed(held);
      patches = parser.finish();
    } catch (AvatarException refused) {
      return fail(refused);
    }
    if (last != null && last.length() > 0) {
      store(last);
    }
    String streamed = hash.hex();
    Future<Void> written = writer.whenIdle();
    for (ImageParser.Patch patch : patches) {
      written = written.compose(v -> staged.overwrite(patch.position(), Buffer.buffer(patch.bytes())));
    }
    // Patched bytes were hashed before the patch: then the stored file is hashed again.
    return written
      .compose(v -> staged.end())
      .compose(v -> patches.isEmpty() ? Future.succeededFuture(streamed) : staged.sha256())
      .map(sha256 -> {
        digest = sha256;
        return null;
      });
  }

  /**
   * The body failed (the client went away, the pipe was closed): what waits to be written is dropped
   * and its share of the write budget returned. Nothing more is written; the caller discards the file.
   */
  public void abort(Throwable cause) {
    writer.fail(cause);
  }

  /** Bytes received so far. */
  public long size() {
    return size.received();
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
    return writer.writeQueueFull();
  }

  @Override
  public UploadSink drainHandler(Handler<Void> handler) {
    writer.drainHandler(handler);
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
