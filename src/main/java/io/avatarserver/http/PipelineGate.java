package io.avatarserver.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http1xServerConnection;

import java.util.ArrayDeque;

/**
 * HTTP/1.1 pipelining (RFC 9112 §9.3.2), one request at a time: once a request has been read to its
 * end, what the client sent after it is held here, in Netty's buffers and with the socket's reads
 * off, until that request's response has been written; then it is passed on. Vert.x thus never sees a
 * pipelined request while another is in progress.
 *
 * <p>Why: Vert.x 5.0.x queues a pipelined request itself, by pausing the connection until the
 * response before it is sent. A connection has one pause flag, which a paused request body also uses
 * (its queue, and {@link SocketPausingBody}): when an upload's body resumed the connection, the next
 * request's end was delivered before that request had begun. With Micrometer metrics that threw a
 * NullPointerException (500, a staged file left); without, the request was lost and its response
 * never sent. Found by writing {@code GET /health}, a PUT and {@code GET /health} in one go
 * ({@code PipeliningTest}).
 *
 * <p>What is held is bounded: the first message held turns auto-read off, which also ends the current
 * read loop, so it is about one socket read ({@link SocketPausingBody#MAX_READ_BYTES}); TCP flow
 * control holds the rest.
 */
final class PipelineGate extends ChannelDuplexHandler {

  /** The name Vert.x gives its connection handler in the channel pipeline (HttpServerConnectionInitializer). */
  private static final String VERTX_HANDLER = "handler";
  private static final String NAME = "avatarPipelineGate";

  private final ArrayDeque<Object> held = new ArrayDeque<>();
  /** Requests read to their end, and responses written to theirs, on this connection. */
  private long requestsEnded;
  private long responsesEnded;
  private boolean releasing;

  static void install(HttpConnection connection) {
    // HTTP/1.x only: HTTP/2 multiplexes its streams and has no pipelining.
    if (connection instanceof Http1xServerConnection internal) {
      ChannelPipeline pipeline = internal.channelHandlerContext().pipeline();
      if (pipeline.get(NAME) == null && pipeline.get(VERTX_HANDLER) != null) {
        pipeline.addBefore(VERTX_HANDLER, NAME, new PipelineGate());
      }
    }
  }

  private boolean closed() {
    return requestsEnded > responsesEnded;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closed() || !held.isEmpty()) {
      held.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    pass(ctx, msg);
  }

  private void pass(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof LastHttpContent) {
      requestsEnded++;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (!held.isEmpty()) {
      ctx.channel().config().setAutoRead(false);
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    boolean responseEnd = msg instanceof LastHttpContent && !(msg instanceof HttpResponse head && informational(head.status()));
    ctx.write(msg, promise);
    if (responseEnd) {
      responsesEnded++;
      if (!held.isEmpty() && !closed()) {
        // Later: Vert.x completes the response after this write returns, and must have before the
        // next request reaches it.
        ctx.executor().execute(() -> release(ctx));
      }
    }
  }

  private static boolean informational(HttpResponseStatus status) {
    return status.codeClass() == HttpStatusClass.INFORMATIONAL;
  }

  private void release(ChannelHandlerContext ctx) {
    if (releasing) {
      return;
    }
    releasing = true;
    // Reads on before passing: the handlers of what is passed turn them off again as they need (a
    // paused upload body); after, they would be overridden.
    ctx.channel().config().setAutoRead(true);
    try {
      boolean passed = false;
      while (!held.isEmpty() && !closed() && ctx.channel().isActive()) {
        pass(ctx, held.poll());
        passed = true;
      }
      if (passed) {
        ctx.fireChannelReadComplete();
      }
    } finally {
      releasing = false;
    }
    if (!held.isEmpty()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  /**
   * The idle timeout ({@code http.idleTimeoutSeconds}) is for clients that stop sending or reading, not
   * for a server that owes an answer: between a request's end and its response's, the wait is the
   * server's own (a PUT queued for the object store or under way, a commit, a render), each bounded by
   * its own timeouts, and the connection is not idle. Vert.x would close it, the finished upload lost;
   * here the idle event is dropped then. Before the request's end and after the response's, it passes.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent && closed()) {
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    drop();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    drop();
    ctx.fireChannelInactive();
  }

  private void drop() {
    Object msg;
    while ((msg = held.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
