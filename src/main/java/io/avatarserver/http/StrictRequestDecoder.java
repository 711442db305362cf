package io.avatarserver.http;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

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

  private StrictRequestDecoder(HttpServerOptions options) {
    super(options);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("Content-Length together with Transfer-Encoding");
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
