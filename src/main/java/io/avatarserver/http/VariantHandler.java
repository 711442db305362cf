package io.avatarserver.http;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarService;
import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.ObjectMissingException;
import io.avatarserver.avatar.StoredContent;
import io.avatarserver.variant.DefaultAvatarSource;
import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.RenderQueueFullException;
import io.avatarserver.variant.SourceTooLargeException;
import io.avatarserver.variant.StoredVariant;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantKey;
import io.avatarserver.variant.VariantService;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sized variants over HTTP: {@code GET|HEAD /users/{id}/avatar?size=N} (alias {@code s}, with
 * {@code format}, {@code static} and {@code d}), the versioned {@code /avatars/{id}/{version}/{size}.{ext}},
 * and the info JSON that lists those. The rules (sizes, renders once, storage) are {@link VariantService}'s.
 */
final class VariantHandler {

  /** A variant at the plain URL: cached briefly, then revalidated (ETag → 304). */
  static final String PLAIN = "public, max-age=300";
  /** A versioned variant URL of the current version: those bytes never change. */
  static final String IMMUTABLE = "public, max-age=31536000, immutable";
  /** Something other than the variant asked for (queue full, not renderable): soon asked again. */
  static final String FALLBACK = "public, max-age=60";
  /** The size of a default avatar asked for without {@code size} (Gravatar's). */
  static final int DEFAULT_SIZE = 80;
  /** The largest {@code size} that is snapped; beyond (and 0, signs, non-digits) is a 400. */
  static final int MAX_REQUESTED = 65_535;

  private static final Pattern NUMBER = Pattern.compile("[0-9]{1,9}");
  private static final Pattern VARIANT_FILE = Pattern.compile("([1-9][0-9]{0,4})\\.([a-z]{3,4})");

  private final AvatarService avatars;
  private final AvatarRepository repository;
  private final VariantService variants;
  private final DefaultAvatarSource defaults;

  VariantHandler(AvatarService avatars, AvatarRepository repository, VariantService variants, DefaultAvatarSource defaults) {
    this.avatars = avatars;
    this.repository = repository;
    this.variants = variants;
    this.defaults = defaults;
  }

  /** What a variant request asks for, checked before the database is asked anything. */
  private record Query(Integer size, VariantFormat format, boolean firstFrame, String d) {
  }

  /** In front of the original's handler: a request with {@code size}, {@code s} or {@code d} is a variant's. */
  void dispatch(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (request.getParam("size") == null && request.getParam("s") == null && request.getParam("d") == null) {
      ctx.next();
      return;
    }
    long userId = Ids.parse(ctx.pathParam("id"));
    Query query = query(request);
    avatars.current(userId)
      .onSuccess(avatar -> {
        Integer size = query.size() == null ? null : variants.size(avatar, query.size());
        if (size == null) {
          // No size asked (only d=), or a row from before dimensions were recorded: the original.
          ctx.next();
          return;
        }
        VariantFormat format = query.format() != null ? allowed(avatar, query.format()) : negotiated(avatar, request);
        VariantKey key = new VariantKey(userId, avatar.version(), size, format, query.firstFrame() && animatable(avatar));
        serve(ctx, avatar, key, PLAIN, query.format() == null);
      })
      .onFailure(err -> {
        if (query.d() != null && !"404".equals(query.d()) && err instanceof AvatarException e
          && e.failure() == Failure.AVATAR_NOT_FOUND) {
          serveDefault(ctx, userId, query, err);
        } else {
          ctx.fail(err);
        }
      });
  }

  /** {@code GET /avatars/{id}/{version}/{size}.{ext}}: immutable while {@code version} is the current one. */
  void versioned(RoutingContext ctx) {
    long userId = Ids.parse(ctx.pathParam("id"));
    long version = Ids.parse(ctx.pathParam("version"));
    Matcher file = VARIANT_FILE.matcher(ctx.pathParam("file"));
    if (!file.matches()) {
      throw Problem.AVATAR_NOT_FOUND.exception("A variant is named {size}.{webp|png|jpeg}");
    }
    int size = Integer.parseInt(file.group(1));
    String extension = file.group(2);
    avatars.current(userId)
      .onSuccess(avatar -> {
        if (avatar.version() != version) {
          ctx.fail(Failure.AVATAR_NOT_FOUND.exception("Version " + version + " of the avatar of user " + userId
            + " is gone; " + AvatarJson.avatarPath(userId) + "/info names the current one"));
          return;
        }
        VariantFormat format = VariantFormat.named(extension).filter(f -> usable(avatar, f)).orElse(null);
        if (format == null || !variants.sizes(avatar).contains(size)) {
          ctx.fail(Failure.AVATAR_NOT_FOUND.exception("The avatar of user " + userId + " has no variant "
            + size + "." + extension + "; " + AvatarJson.avatarPath(userId) + "/info lists them"));
          return;
        }
        serve(ctx, avatar, new VariantKey(userId, version, size, format, false), IMMUTABLE, false);
      })
      .onFailure(ctx::fail);
  }

  /** The avatar's info, with its variants' versioned URLs (in the original's format; any of webp, png, jpeg serves). */
  void info(RoutingContext ctx) {
    long userId = Ids.parse(ctx.pathParam("id"));
    avatars.current(userId)
      .onSuccess(avatar -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .end(info(avatar).toBuffer()))
      .onFailure(ctx::fail);
  }

  /** An avatar's info: its row and the versioned URLs of its variants (also the answer to an upload). */
  JsonObject info(Avatar avatar) {
    JsonObject urls = new JsonObject();
    String extension = VariantFormat.ofMediaType(avatar.contentType()).orElse(VariantFormat.PNG).extension();
    for (int size : variants.sizes(avatar)) {
      urls.put(String.valueOf(size), versionedPath(avatar, size, extension));
    }
    return AvatarJson.info(avatar).put("variants", urls);
  }

  static String versionedPath(Avatar avatar, int size, String extension) {
    return "/avatars/" + avatar.userId() + "/" + avatar.version() + "/" + size + "." + extension;
  }

  private static Query query(HttpServerRequest request) {
    String rawSize = request.getParam("size") != null ? request.getParam("size") : request.getParam("s");
    Integer size = null;
    if (rawSize != null) {
      if (!NUMBER.matcher(rawSize).matches() || Integer.parseInt(rawSize) < 1 || Integer.parseInt(rawSize) > MAX_REQUESTED) {
        throw Problem.BAD_REQUEST.exception("size must be a whole number from 1 to " + MAX_REQUESTED
          + " (it is snapped to the nearest size served)");
      }
      size = Integer.parseInt(rawSize);
    }
    VariantFormat format = null;
    String rawFormat = request.getParam("format");
    if (rawFormat != null) {
      format = VariantFormat.named(rawFormat).orElseThrow(() ->
        Problem.BAD_REQUEST.exception("format must be webp, png or jpeg"));
    }
    String rawStatic = request.getParam("static");
    boolean firstFrame = false;
    if (rawStatic != null) {
      switch (rawStatic.toLowerCase(Locale.ROOT)) {
        case "1", "true" -> firstFrame = true;
        case "0", "false" -> firstFrame = false;
        default -> throw Problem.BAD_REQUEST.exception("static must be 1 or 0");
      }
    }
    String d = request.getParam("d");
    if (d != null && !"404".equals(d) && !DefaultAvatarSource.KINDS.contains(d)) {
      throw Problem.BAD_REQUEST.exception("d must be 404, identicon, initials or mp");
    }
    return new Query(size, format, firstFrame, d);
  }

  /** WebP, PNG and JPEG are rendered from any original; GIF only from a GIF (it keeps its animation). */
  private static boolean usable(Avatar avatar, VariantFormat format) {
    return format != VariantFormat.GIF || format.mediaType().equals(avatar.contentType());
  }

  private static VariantFormat allowed(Avatar avatar, VariantFormat format) {
    if (!usable(avatar, format)) {
      throw Problem.BAD_REQUEST.exception("format must be webp, png or jpeg");
    }
    return format;
  }

  /** WebP when the client lists {@code image/webp} (with a q above 0), else the original's format. */
  static VariantFormat negotiated(Avatar avatar, HttpServerRequest request) {
    String accept = request.getHeader(HttpHeaders.ACCEPT);
    if (accept != null) {
      for (String range : accept.split(",")) {
        String[] parts = range.split(";");
        if (parts[0].trim().equalsIgnoreCase("image/webp") && !zeroQuality(parts)) {
          return VariantFormat.WEBP;
        }
      }
    }
    return VariantFormat.ofMediaType(avatar.contentType()).orElse(VariantFormat.PNG);
  }

  private static boolean zeroQuality(String[] parts) {
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim().toLowerCase(Locale.ROOT);
      if (p.startsWith("q=")) {
        try {
          return Double.parseDouble(p.substring(2)) <= 0;
        } catch (NumberFormatException e) {
          return false;
        }
      }
    }
    return false;
  }

  private static boolean animatable(Avatar avatar) {
    return "image/gif".equals(avatar.contentType()) || "image/webp".equals(avatar.contentType());
  }

  private void serve(RoutingContext ctx, Avatar avatar, VariantKey key, String cacheControl, boolean vary) {
    HttpServerRequest request = ctx.request();
    String etag = VariantService.etag(avatar, key);
    if (Conditional.notModified(request, etag, avatar.updatedAt())) {
      headers(ctx, key.format().mediaType(), etag, avatar.updatedAt(), cacheControl, vary,
        filename(avatar, key.size(), key.format().extension())).setStatusCode(304).end();
      return;
    }
    variants.stored(avatar, key)
      .compose(variant -> {
        HttpServerResponse response = headers(ctx, key.format().mediaType(), etag, avatar.updatedAt(), cacheControl,
          vary, filename(avatar, key.size(), key.format().extension()));
        if (request.method() == HttpMethod.HEAD) {
          return response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(variant.size())).end();
        }
        return variants.open(variant).compose(content -> send(response, content));
      })
      .recover(err -> fallback(ctx, avatar, key, vary, err))
      .onFailure(ctx::fail);
  }

  /**
   * Instead of the variant: with the render queue full, the nearest stored variant or the original;
   * when the original cannot be rendered (beyond the limits, not an image the engine reads) or an
   * object is gone, the original. Briefly cacheable, so the variant is asked for again soon.
   */
  private Future<Void> fallback(RoutingContext ctx, Avatar avatar, VariantKey key, boolean vary, Throwable err) {
    if (ctx.response().headWritten()) {
      return Future.failedFuture(err);
    }
    if (err instanceof RenderQueueFullException) {
      return variants.nearest(key).compose(nearest -> nearest == null
        ? original(ctx, avatar, vary)
        : variants.open(nearest).compose(content -> send(headers(ctx, nearest.key().format().mediaType(),
            VariantService.etag(avatar, nearest.key()), avatar.updatedAt(), FALLBACK, vary,
            filename(avatar, nearest.key().size(), nearest.key().format().extension())), content))
          .recover(again -> again instanceof ObjectMissingException ? original(ctx, avatar, vary) : Future.failedFuture(again)));
    }
    if (err instanceof SourceTooLargeException || err instanceof RenderException || err instanceof ObjectMissingException) {
      return original(ctx, avatar, vary);
    }
    return Future.failedFuture(err);
  }

  private Future<Void> original(RoutingContext ctx, Avatar avatar, boolean vary) {
    return avatars.open(avatar).compose(opened -> {
      Avatar served = opened.avatar();
      String extension = VariantFormat.ofMediaType(served.contentType()).map(VariantFormat::extension).orElse("bin");
      HttpServerResponse response = headers(ctx, served.contentType(), "\"" + served.sha256() + "\"", served.updatedAt(),
        FALLBACK, vary, "avatar-" + served.userId() + "." + extension);
      if (ctx.request().method() == HttpMethod.HEAD) {
        opened.content().close();
        return response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(served.size())).end();
      }
      return send(response, opened.content());
    });
  }

  private void serveDefault(RoutingContext ctx, long userId, Query query, Throwable notFound) {
    int size = variants.snap(query.size() == null ? DEFAULT_SIZE : query.size());
    repository.findUser(userId)
      .compose(user -> user == null
        ? Future.failedFuture(notFound)
        : defaults.render(query.d(), user, size))
      .compose(image -> {
        HttpServerResponse response = headers(ctx, image.mediaType(), image.etag(), null, PLAIN, false,
          "avatar-" + userId + "-" + query.d() + "-" + size + ".png");
        // No Last-Modified: only the ETag decides (an If-Modified-Since alone never matches "now").
        if (Conditional.notModified(ctx.request(), image.etag(), Instant.now())) {
          return response.setStatusCode(304).end();
        }
        return response.end(Buffer.buffer(image.bytes()));
      })
      .onFailure(ctx::fail);
  }

  private static String filename(Avatar avatar, int size, String extension) {
    return "avatar-" + avatar.userId() + "-" + size + "." + extension;
  }

  private static HttpServerResponse headers(RoutingContext ctx, String contentType, String etag, Instant lastModified,
                                            String cacheControl, boolean vary, String filename) {
    HttpServerResponse response = ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, contentType)
      .putHeader(HttpHeaders.ETAG, etag)
      .putHeader(HttpHeaders.CACHE_CONTROL, cacheControl)
      .putHeader("Content-Security-Policy", "default-src 'none'; sandbox")
      .putHeader("Content-Disposition", "inline; filename=\"" + filename + "\"");
    if (lastModified != null) {
      response.putHeader(HttpHeaders.LAST_MODIFIED, DateTimeFormatter.RFC_1123_DATE_TIME.format(lastModified.atOffset(ZoneOffset.UTC)));
    }
    if (vary) {
      response.putHeader(HttpHeaders.VARY, "Accept");
    }
    return response;
  }

  private static Future<Void> send(HttpServerResponse response, StoredContent content) {
    Future<Void> sent;
    if (content instanceof StoredContent.LocalFile file) {
      // Zero copy, as the original: Netty transfers from the channel; close() closes it.
      sent = response.sendFile(file.channel(), 0, file.length());
    } else {
      StoredContent.Streamed streamed = (StoredContent.Streamed) content;
      response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(streamed.length()));
      sent = streamed.stream().pipeTo(response);
    }
    return sent.onComplete(ar -> content.close());
  }
}
