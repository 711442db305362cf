package io.avatarserver.http;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarService;
import io.avatarserver.avatar.StoredContent;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * {@code GET}, {@code HEAD} and {@code DELETE} on an avatar, and {@code GET} of its info: HTTP in
 * and out (validators, caching headers, sending the bytes), the rules in {@link AvatarService}.
 */
final class AvatarHandler {

  /** Unversioned URL: may be cached, but must be revalidated (cheap: ETag → 304). */
  private static final String REVALIDATE = "public, no-cache";
  /** Versioned URL ({@code ?v=N} equal to the current version): those bytes never change. */
  private static final String IMMUTABLE = "public, max-age=31536000, immutable";

  private final AvatarService avatars;

  AvatarHandler(AvatarService avatars) {
    this.avatars = avatars;
  }

  void get(RoutingContext ctx) {
    long userId = Ids.parse(ctx.pathParam("id"));
    HttpServerRequest request = ctx.request();
    avatars.current(userId)
      .compose(avatar -> {
        // Decided on the row alone: no file is opened for a 304 or a HEAD.
        if (notModified(request, avatar)) {
          return notModified(ctx, avatar);
        }
        if (request.method() == HttpMethod.HEAD) {
          return headers(ctx, avatar).putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(avatar.size()))
            .putHeader(HttpHeaders.ACCEPT_RANGES, "bytes").end();
        }
        // The range is decided on the row (its size) before anything is opened: an unsatisfiable one
        // opens nothing, and a backend that reads a range alone is asked for that range only.
        ByteRange range = range(request, avatar, avatar.size());
        if (range.unsatisfiable()) {
          return unsatisfiable(ctx, avatar.size());
        }
        return (range.whole() ? avatars.open(avatar) : avatars.open(avatar, range.start(), range.length()))
          .compose(opened -> send(ctx, opened));
      })
      .onFailure(ctx::fail);
  }

  void delete(RoutingContext ctx) {
    // The guards paused the request; a DELETE body means nothing, let it drain so the connection stays usable.
    ctx.request().resume();
    long userId = Ids.parse(ctx.pathParam("id"));
    avatars.delete(userId)
      .onSuccess(v -> ctx.response().setStatusCode(204).end())
      .onFailure(ctx::fail);
  }

  /** A file name built from our own data only: the user id and the stored type's extension. */
  private static String extension(Avatar avatar) {
    for (io.avatarserver.upload.image.ImageType type : io.avatarserver.upload.image.ImageType.values()) {
      if (type.mediaType().equals(avatar.contentType())) {
        return type.extension();
      }
    }
    return "bin";
  }

  private static String etag(Avatar avatar) {
    return "\"" + avatar.sha256() + "\"";
  }

  private static boolean notModified(HttpServerRequest request, Avatar avatar) {
    return Conditional.notModified(request, etag(avatar), avatar.updatedAt());
  }

  private static Future<Void> notModified(RoutingContext ctx, Avatar avatar) {
    return headers(ctx, avatar).setStatusCode(304).end();
  }

  /** The bytes opened for the row {@code opened} names (the current one, if it changed meanwhile). */
  private static Future<Void> send(RoutingContext ctx, AvatarService.AvatarContent opened) {
    Avatar avatar = opened.avatar();
    StoredContent content = opened.content();
    if (notModified(ctx.request(), avatar)) {
      content.close();
      return notModified(ctx, avatar);
    }
    if (content instanceof StoredContent.Redirect redirect) {
      // The store serves the bytes; the signed URL expires, so the redirect itself is not cached.
      return ctx.response().setStatusCode(302)
        .putHeader(HttpHeaders.LOCATION, redirect.uri().toString())
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end();
    }
    // The row served may be another than the one the range was decided on (replaced meanwhile, then
    // opened whole): decided again on the row served.
    long size = avatar.size();
    ByteRange range = range(ctx.request(), avatar, size);
    if (range.unsatisfiable()) {
      content.close();
      return unsatisfiable(ctx, size);
    }
    long offset = range.whole() ? 0 : range.start();
    long length = range.whole() ? size : range.length();
    return transfer(ctx, avatar, range, size, content, offset, length);
  }

  private static Future<Void> unsatisfiable(RoutingContext ctx, long size) {
    ctx.response().putHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + size);
    return Future.failedFuture(Problem.RANGE_NOT_SATISFIABLE.exception(
      "The avatar has " + size + " bytes; the requested range starts beyond them"));
  }

  /** Sends the {@code range} of the object: its {@code length} bytes from {@code offset}, out of {@code content}. */
  private static Future<Void> transfer(RoutingContext ctx, Avatar avatar, ByteRange range, long size, StoredContent content,
                                       long offset, long length) {
    HttpServerResponse response = headers(ctx, avatar).putHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
    if (!range.whole()) {
      response.setStatusCode(206).putHeader(HttpHeaders.CONTENT_RANGE, range.contentRange(size));
    }
    Future<Void> sent;
    if (content instanceof StoredContent.LocalFile file) {
      // Zero copy: Netty transfers from the channel; sendFile does not close it, close() does.
      sent = response.sendFile(file.channel(), offset, length);
    } else {
      // The stream starts at the object's byte streamed.offset() (a range the store read alone) or 0.
      StoredContent.Streamed streamed = (StoredContent.Streamed) content;
      long skip = offset - streamed.offset();
      response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(length));
      sent = (skip == 0 && length == streamed.length() ? streamed.stream()
        : new RangeReadStream(streamed.stream(), skip, length)).pipeTo(response);
    }
    return sent.onComplete(ar -> content.close());
  }

  /**
   * The single byte range a GET asks for, when it applies: not after an {@code If-Range} that names
   * another version (§13.1.5: then the whole current representation).
   */
  private static ByteRange range(HttpServerRequest request, Avatar avatar, long size) {
    String header = request.getHeader("Range");
    if (header == null) {
      return ByteRange.WHOLE;
    }
    String ifRange = request.getHeader("If-Range");
    if (ifRange != null && !ifRange.trim().equals(etag(avatar))) {
      return ByteRange.WHOLE;
    }
    return ByteRange.of(header, size);
  }

  private static HttpServerResponse headers(RoutingContext ctx, Avatar avatar) {
    boolean versioned = String.valueOf(avatar.version()).equals(ctx.request().getParam("v"));
    return ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, avatar.contentType())
      .putHeader(HttpHeaders.ETAG, etag(avatar))
      .putHeader(HttpHeaders.LAST_MODIFIED, DateTimeFormatter.RFC_1123_DATE_TIME.format(avatar.updatedAt().atOffset(ZoneOffset.UTC)))
      .putHeader(HttpHeaders.CACHE_CONTROL, versioned ? IMMUTABLE : REVALIDATE)
      // Even if a browser is tricked into rendering it as a document: no scripts, no origin (sandbox).
      .putHeader("Content-Security-Policy", "default-src 'none'; sandbox")
      .putHeader("Content-Disposition", "inline; filename=\"avatar-" + avatar.userId() + "." + extension(avatar) + "\"");
  }
}
