package io.avatarserver.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * Vert.x's HTTP/1.x request decoder, made to refuse a request that carries both Content-Length and
 * Transfer-Encoding. Netty's default drops the Content-Length and reads the body as chunked (RFC 9112
 * §6.3 allows that only if the connection is then closed); a proxy in front that believes the
 * Content-Length would see a different request boundary: request smuggling. Here the decoder fails,
 * and the server answers 400 and closes ({@link ProblemResponder#invalidRequest}).
 *
 * <p>Installed from {@code HttpServer.connectionHandler}, which runs before the first byte is decoded
 * only when cleartext HTTP/2 (h2c) is off: with h2c on, Vert.x reads the first bytes to look for an
 * HTTP/2 preface before it builds the HTTP/1 pipeline. Uses Vert.x internals ({@code http.impl}),
 * pinned by the BOM; {@code RequestFramingTest} fails if an upgrade changes them.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {

  /** The name Vert.x gives its decoder in the channel pipeline (HttpServerConnectionInitializer). */
  private static final String DECODER = "httpDecoder";
  /** Netty's parsing state (a private enum): whether the next bytes are a chunk-size line. */
  private static final VarHandle CURRENT_STATE;

  static {
    try {
      CURRENT_STATE = MethodHandles.privateLookupIn(HttpObjectDecoder.class, MethodHandles.lookup())
        .findVarHandle(HttpObjectDecoder.class, "currentState",
          HttpObjectDecoder.class.getDeclaredField("currentState").getType());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Netty changed HttpObjectDecoder", e);
    }
  }

  private StrictRequestDecoder(HttpServerOptions options) {
    super(options);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("Content-Length together with Transfer-Encoding");
  }

  /**
   * Called by Netty for every message head, before it decides how the body is framed. A request whose
   * Transfer-Encoding is anything but {@code chunked} alone (RFC 9112 §6.1: {@code identity},
   * {@code gzip}, a list not ending in {@code chunked}, ...) is refused here: Netty would read it as a
   * request without a body and run its body as the next request (smuggling). Codings before
   * {@code chunked} ({@code gzip, chunked}) are refused too: the server decodes none. Throwing makes
   * Netty mark the message invalid; the server answers 400 and closes.
   */
  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage message) {
    List<String> codings = message.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!codings.isEmpty() && !(codings.size() == 1 && codings.get(0).trim().equalsIgnoreCase("chunked"))) {
      throw new IllegalArgumentException("Transfer-Encoding '" + String.join(", ", codings)
        + "' is not supported; only chunked alone is");
    }
    return super.isContentAlwaysEmpty(message);
  }

  /**
   * Chunk extensions ({@code 1f;name=value}, RFC 9112 §7.1.1) are to be ignored by a recipient that does
   * not know them, but Netty 4.2.12 refuses every {@code name=token} one ("Invalid chunk extension"),
   * and the connection was closed without an answer. So before Netty reads a chunk-size line, its
   * extensions are blanked out in place (the bytes are this connection's own read buffer): Netty then
   * reads a size followed by whitespace, which it accepts.
   */
  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (CURRENT_STATE.get(this) instanceof Enum<?> state && state.name().equals("READ_CHUNK_SIZE")) {
      int end = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
      if (end >= 0) {
        int semicolon = in.indexOf(in.readerIndex(), end, (byte) ';');
        if (semicolon >= 0) {
          int stop = end > semicolon && in.getByte(end - 1) == '\r' ? end - 1 : end;
          for (int i = semicolon + 1; i < stop; i++) {
            in.setByte(i, ' ');
          }
        }
      }
    }
    super.decode(ctx, in, out);
  }

  static void install(HttpConnection connection, HttpServerOptions options) {
    if (connection instanceof HttpServerConnection internal) {
      ChannelPipeline pipeline = internal.channelHandlerContext().pipeline();
      if (pipeline.get(DECODER) instanceof VertxHttpRequestDecoder current && !(current instanceof StrictRequestDecoder)) {
        pipeline.replace(DECODER, DECODER, new StrictRequestDecoder(options));
      }
    }
  }
}
