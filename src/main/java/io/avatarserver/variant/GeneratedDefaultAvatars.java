package io.avatarserver.variant;

import io.avatarserver.avatar.User;
import io.vertx.core.Future;

import java.util.Optional;

/**
 * The default images of {@link DefaultAvatars} (identicon, initials, mp) as the HTTP layer asks for
 * them: a cached image is answered at once, on the caller's thread (no blocking there); a miss is drawn
 * on the render pool, never on an event loop. PNG, at the size the caller has already snapped.
 */
public final class GeneratedDefaultAvatars implements DefaultAvatarSource {

  private final DefaultAvatars avatars;
  private final RenderPool pool;

  public GeneratedDefaultAvatars(DefaultAvatars avatars, RenderPool pool) {
    this.avatars = avatars;
    this.pool = pool;
  }

  @Override
  public Future<Image> render(String kind, User user, int size) {
    Optional<DefaultAvatarKind> parsed = DefaultAvatarKind.parse(kind);
    if (parsed.isEmpty() || !parsed.get().rendered()) {
      return Future.failedFuture(new IllegalArgumentException("no default image is drawn for d=" + kind));
    }
    DefaultAvatarKind drawn = parsed.get();
    Optional<DefaultAvatar> hit = avatars.cached(drawn, user.id(), user.name(), size, VariantFormat.PNG);
    if (hit.isPresent()) {
      return Future.succeededFuture(image(hit.get()));
    }
    return pool.execute(() -> image(avatars.get(drawn, user.id(), user.name(), size, VariantFormat.PNG)));
  }

  private static Image image(DefaultAvatar avatar) {
    return new Image(avatar.bytes(), avatar.etag(), avatar.format().mediaType());
  }
}
