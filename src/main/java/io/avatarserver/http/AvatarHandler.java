package io.avatarserver.http;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.ObjectMissingException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** {@code GET}, {@code HEAD} and {@code DELETE} on an avatar, and {@code GET} of its info. */
final class AvatarHandler {

  private static final Logger LOG = LoggerFactory.getLogger(AvatarHandler.class);
  /** Unversioned URL: may be cached, but must be revalidated (cheap: ETag → 304). */
  private static final String REVALIDATE = "public, no-cache";
  /** Versioned URL ({@code ?v=N} equal to the current version): those bytes never change. */
  private static final String IMMUTABLE = "public, max-age=31536000, immutable";

  private final AvatarRepository repository;
  private final AvatarStorage storage;

  AvatarHandler(AvatarRepository repository, AvatarStorage storage) {
    this.repository = repository;
    this.storage = storage;
  }

  void get(RoutingContext ctx) {
    long userId = Ids.parse(ctx.pathParam("id"));
    current(userId)
      .compose(avatar -> serve(ctx, avatar, true))
      .onFailure(ctx::fail);
  }

  void info(RoutingContext ctx) {
    long userId = Ids.parse(ctx.pathParam("id"));
    current(userId)
      .onSuccess(avatar -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .end(AvatarJson.info(avatar).toBuffer()))
      .onFailure(ctx::fail);
  }

  void delete(RoutingContext ctx) {
    // The guards paused the request; a DELETE body means nothing, let it drain so the connection stays usable.
    ctx.request().resume();
    long userId = Ids.parse(ctx.pathParam("id"));
    repository.deleteAvatar(userId)
      .compose(deleted -> deleted == null
        ? Future.failedFuture(Problem.AVATAR_NOT_FOUND.exception("User " + userId + " has no avatar"))
        // The row is gone (committed): the bytes are unreachable now, delete them; a failure is left to the sweep.
        : storage.delete(deleted.storageKey()).otherwise(err -> {
            LOG.warn("could not delete avatar file {}: {}", deleted.storageKey(), err.toString());
            return null;
          }))
      .onSuccess(v -> ctx.response().setStatusCode(204).end())
      .onFailure(ctx::fail);
  }

  /** A file name built from our own data only: the user id and the stored type's extension. */
  private static String extension(Avatar avatar) {
    for (io.avatarserver.upload.ImageType type : io.avatarserver.upload.ImageType.values()) {
      if (type.mediaType().equals(avatar.contentType())) {
        return type.extension();
      }
    }
    return "bin";
  }

  private Future<Avatar> current(long userId) {
    return repository.findAvatar(userId).compose(avatar -> avatar == null
      ? Future.failedFuture(Problem.AVATAR_NOT_FOUND.exception("User " + userId + " has no avatar"))
      : Future.succeededFuture(avatar));
  }

  private Future<Void> serve(RoutingContext ctx, Avatar avatar, boolean mayRetry) {
    HttpServerRequest request = ctx.request();
    HttpServerResponse response = ctx.response();
    String etag = "\"" + avatar.sha256() + "\"";
    boolean versioned = String.valueOf(avatar.version()).equals(request.getParam("v"));
    response
      .putHeader(HttpHeaders.CONTENT_TYPE, avatar.contentType())
      .putHeader(HttpHeaders.ETAG, etag)
      .putHeader(HttpHeaders.LAST_MODIFIED, DateTimeFormatter.RFC_1123_DATE_TIME.format(avatar.updatedAt().atOffset(ZoneOffset.UTC)))
      .putHeader(HttpHeaders.CACHE_CONTROL, versioned ? IMMUTABLE : REVALIDATE)
      // Even if a browser is tricked into rendering it as a document: no scripts, no origin (sandbox).
      .putHeader("Content-Security-Policy", "default-src 'none'; sandbox")
      .putHeader("Content-Disposition", "inline; filename=\"avatar-" + avatar.userId() + "." + extension(avatar) + "\"");
    if (Conditional.notModified(request, etag, avatar.updatedAt())) {
      response.setStatusCode(304);
      return response.end();
    }
    if (request.method() == HttpMethod.HEAD) {
      return response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(avatar.size())).end();
    }
    return storage.send(avatar.storageKey(), response).recover(err -> {
      // Replaced and deleted between reading the row (or caching it) and opening the file: serve the new one.
      if (err instanceof ObjectMissingException && mayRetry) {
        repository.forgetAvatar(avatar.userId());
        return current(avatar.userId()).compose(fresh -> serve(ctx, fresh, false));
      }
      return Future.failedFuture(err);
    });
  }
}
