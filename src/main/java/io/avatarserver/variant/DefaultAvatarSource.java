package io.avatarserver.variant;

import io.avatarserver.avatar.User;
import io.vertx.core.Future;

/**
 * The image served for {@code ?d=<kind>} when a user has no avatar: {@code identicon}, {@code initials}
 * or {@code mp} ({@code 404}, today's answer, never reaches it). An implementation renders each image
 * once per size (never on an event loop) and caches it.
 */
public interface DefaultAvatarSource {

  /** The kinds {@code d=} takes besides {@code 404}. */
  java.util.List<String> KINDS = java.util.List.of("identicon", "initials", "mp");

  /** An encoded default image and its strong validator (quotes included). */
  record Image(byte[] bytes, String etag, String mediaType) {
  }

  /** The default image of {@code kind} (one of {@link #KINDS}) for {@code user}, {@code size}×{@code size}. */
  Future<Image> render(String kind, User user, int size);
}
