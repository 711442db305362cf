package io.avatarserver.variant;

/**
 * One rendered default avatar: its encoded bytes, its (snapped) size and format, and its strong
 * ETag, the quoted hex SHA-256 of the bytes (the same form as an uploaded avatar's ETag). Instances
 * come from the {@link DefaultAvatars} cache and are shared: never modify {@link #bytes()}.
 */
public record DefaultAvatar(DefaultAvatarKind kind, int size, VariantFormat format, byte[] bytes, String etag) {
  public DefaultAvatar {
    if (!kind.rendered()) {
      throw new IllegalArgumentException("no image for " + kind);
    }
  }

  public String mediaType() {
    return format.mediaType();
  }
}
