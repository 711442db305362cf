package io.avatarserver.http;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.RoutingContext;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A request body (or one multipart file part) whose {@link #pause()} also stops reading the socket.
 *
 * <p>Why: a paused Vert.x 5 {@code HttpServerRequest} keeps taking chunks from its connection into a
 * heap queue until it holds 16 of them ({@code MessagePassingQueue.DEFAULT_HIGH_WATER_MARK}; no
 * setting changes it), and only then stops reading: up to 128 KiB of heap per paused upload. Measured
 * with {@code src/load/memory/MemoryProof.java}: 1,000 uploads of 64 KiB/s each ran a 64 MiB heap out
 * of memory, and the heap dump held 41 MB of body chunks in those queues, about 7.7 per upload.
 *
 * <p>So on HTTP/1.x, pausing here also pauses the connection (its further messages stay in Netty's
 * pooled buffers, uncopied) and turns off auto-read, which ends the current read loop: the kernel's
 * socket buffer and TCP flow control hold the rest. What a paused connection holds is then at most
 * one socket read, and {@link #boundReads} keeps that to 16 KiB. HTTP/2 multiplexes streams on one
 * connection, so there only the stream is paused, as Vert.x does. The connection class is Vert.x's own
 * implementation ({@code Http1xServerConnection}, stable across 5.0.x); where it is not that class,
 * this falls back to pausing the request alone.
 *
 * <p>{@link #pipe()} pauses the socket at once: the checks before the body is read (the user's row,
 * an upload slot) wait on the database, and 1,000 clients sending meanwhile filled those queues
 * before a single byte was written (the heap dump above). A pipe resumes its source when it starts,
 * ends, fails or is closed; {@link #release(RoutingContext)} undoes the pause when a refusal comes
 * before the pipe started.
 */
final class SocketPausingBody implements ReadStream<Buffer> {

  private static final String KEY = "avatar.socketPausingBody";

  /**
   * The connection's request still receiving messages ({@code Http1xServerConnection.requestInProgress})
   * and its own auto-read wish ({@code VertxConnection.autoRead}): private fields of Vert.x 5.0.x, read
   * to share the connection's one pause flag with its pipelining (see {@link #ownsInput()}).
   */
  private static final VarHandle REQUEST_IN_PROGRESS = field(Http1xServerConnection.class, "requestInProgress");
  private static final VarHandle AUTO_READ = field(io.vertx.core.net.impl.VertxConnection.class, "autoRead");

  private final ReadStream<Buffer> body;
  private final Http1xServerConnection connection;
  /**
   * The response of the request whose body this is (Vert.x Web wraps the request, not its response):
   * the connection's input is ours only while that request is in progress.
   */
  private final HttpServerResponse response;
  /** The consumer asked for a pause and has not resumed since. */
  private boolean wanted;
  private boolean socketPaused;

  private SocketPausingBody(ReadStream<Buffer> body, Http1xServerConnection connection, HttpServerResponse response) {
    this.body = body;
    this.connection = connection;
    this.response = response;
  }

  private static VarHandle field(Class<?> owner, String name) {
    try {
      return MethodHandles.privateLookupIn(owner, MethodHandles.lookup()).findVarHandle(owner, name,
        owner.getDeclaredField(name).getType());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Vert.x changed its HTTP/1 connection (" + owner.getName() + "." + name + ")", e);
    }
  }

  /**
   * {@code body} (the request of {@code ctx}, or one of its multipart parts) as a stream whose pause
   * also pauses the socket; the body itself where that cannot be done. Remembered in {@code ctx} for
   * {@link #release}.
   */
  static ReadStream<Buffer> of(RoutingContext ctx, ReadStream<Buffer> body) {
    if (!(ctx.request().connection() instanceof Http1xServerConnection http1)) {
      return body;
    }
    SocketPausingBody pausing = new SocketPausingBody(body, http1, ctx.response());
    ctx.put(KEY, pausing);
    return pausing;
  }

  /** The most one socket read of an HTTP/1.x connection takes (Netty's default is 64 KiB). */
  static final int MAX_READ_BYTES = 16 * 1024;

  /**
   * Caps the socket reads of {@code connection} (HTTP/1.x) at {@link #MAX_READ_BYTES}, from its first
   * byte. Pausing stops further reads, but what the last read took stays with the paused connection as
   * body messages that still hold Netty's read buffer (off-heap, in chunks shared with other reads).
   * With Netty's 64 KiB reads, 1,000 uploads at 128 KiB/s whose writes fell behind pinned the whole
   * direct-memory limit (64 MiB with {@code -Xmx64m}): reads failed with OutOfMemoryError and uploads
   * got 500s. A class histogram showed about five body messages held per connection. 16 KiB is what
   * nginx reads a body with ({@code client_body_buffer_size} on 64-bit); a 1 MiB upload benchmark
   * showed no cost against 64 KiB (0.59x nginx against 0.57x, same run conditions).
   */
  static void boundReads(HttpConnection connection) {
    if (connection instanceof Http1xServerConnection http1) {
      http1.channel().config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ_BYTES));
    }
  }

  /** {@link #of}, paused, as a pipe ({@link ReadStream#pipe()} pauses first). */
  static Pipe<Buffer> pipe(RoutingContext ctx, ReadStream<Buffer> body) {
    return of(ctx, body).pipe();
  }

  /** Reads the socket again if a body of {@code ctx} left it paused; call before draining a body. */
  static void release(RoutingContext ctx) {
    SocketPausingBody pausing = ctx.get(KEY);
    if (pausing != null) {
      pausing.wanted = false;
      pausing.resumeSocket();
    }
  }

  @Override
  public SocketPausingBody pause() {
    wanted = true;
    body.pause();
    if (!socketPaused && ownsInput()) {
      socketPaused = true;
      connection.doPause();
      channel().config().setAutoRead(false);
    }
    return this;
  }

  @Override
  public SocketPausingBody resume() {
    wanted = false;
    // Resuming can deliver queued chunks at once, and they can pause this again: check after each step.
    body.resume();
    if (!wanted) {
      resumeSocket();
    }
    return this;
  }

  private void resumeSocket() {
    if (!socketPaused) {
      return;
    }
    socketPaused = false;
    if (!ownsInput()) {
      // The connection has read this request's end meanwhile. If a next request has begun there
      // (Vert.x resumed the connection to take a pipelined request's head), the pause is Vert.x's,
      // holding that request until this response is sent: resuming would deliver it early (ended
      // before it began: metrics NPE, a response never sent). If none has, the pause is still this
      // stream's own: taken while the body's last chunk was handled (a Content-Length body's last
      // chunk carries bytes, and the write before it can be in flight), just before Vert.x read the
      // end. Nothing else resumes it: the next request on this kept-alive connection would wait in
      // Vert.x's queue, unread, until the idle timeout closed the connection.
      if (REQUEST_IN_PROGRESS.get(connection) == null) {
        connection.doResume();
      }
      channel().config().setAutoRead((boolean) AUTO_READ.get(connection));
      return;
    }
    connection.doResume();
    // doResume() delivers what the connection held, which may pause again; it may also have turned
    // auto-read on by its own count of held messages: set what this stream wants last.
    channel().config().setAutoRead(!socketPaused);
  }

  /**
   * Whether the connection's input is still this request's body. A connection has one pause flag,
   * shared with HTTP/1.1 pipelining: once this request's end is read, a further request head pauses
   * the connection until this response is sent. Past that point this stream no longer pauses the
   * connection (the rest of the body is in the request's queue already), and resumes it only to give
   * back a pause of its own that no next request has taken over ({@link #resumeSocket()}).
   */
  private boolean ownsInput() {
    return REQUEST_IN_PROGRESS.get(connection) instanceof HttpServerRequest inProgress && inProgress.response() == response;
  }

  private Channel channel() {
    return connection.channel();
  }

  @Override
  public SocketPausingBody fetch(long amount) {
    if (amount > 0) {
      resume();
    }
    return this;
  }

  @Override
  public SocketPausingBody handler(Handler<Buffer> handler) {
    body.handler(handler);
    return this;
  }

  @Override
  public SocketPausingBody exceptionHandler(Handler<Throwable> handler) {
    body.exceptionHandler(handler);
    return this;
  }

  @Override
  public SocketPausingBody endHandler(Handler<Void> endHandler) {
    body.endHandler(endHandler);
    return this;
  }
}
