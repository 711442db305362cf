package io.avatarserver.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * The bytes {@code [start, start + length)} of a stream: what comes before is dropped, and the stream
 * ends once the last byte was passed on (the source is then closed by its owner). Backpressure is the
 * source's: pause, resume and fetch go straight to it.
 */
final class RangeReadStream implements ReadStream<Buffer> {

  private final ReadStream<Buffer> source;
  private final long start;
  private final long end;
  private long position;
  private boolean ended;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;

  RangeReadStream(ReadStream<Buffer> source, long start, long length) {
    this.source = source;
    this.start = start;
    this.end = start + length;
    source.handler(this::chunk);
    source.endHandler(v -> finish());
  }

  private void chunk(Buffer chunk) {
    if (ended) {
      return;
    }
    long from = position;
    long to = position + chunk.length();
    position = to;
    long keepFrom = Math.max(from, start);
    long keepTo = Math.min(to, end);
    if (keepFrom < keepTo && handler != null) {
      handler.handle(chunk.slice((int) (keepFrom - from), (int) (keepTo - from)));
    }
    if (position >= end) {
      finish();
    }
  }

  private void finish() {
    if (!ended) {
      ended = true;
      if (endHandler != null) {
        endHandler.handle(null);
      }
    }
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    source.exceptionHandler(handler);
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    this.handler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    source.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    source.fetch(amount);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }
}
