package io.avatarserver.upload.image;

import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.AvatarException;

import java.util.Locale;

/** The image formats an avatar may have, each known by its media type and by its first bytes. */
public enum ImageType {
  JPEG("image/jpeg", "jpg"),
  PNG("image/png", "png"),
  GIF("image/gif", "gif"),
  WEBP("image/webp", "webp");

  /** How many leading bytes {@link #sniff} needs to tell every format apart (WebP: RIFF....WEBP). */
  public static final int SNIFF_BYTES = 12;

  private final String mediaType;
  private final String extension;

  ImageType(String mediaType, String extension) {
    this.mediaType = mediaType;
    this.extension = extension;
  }

  public String mediaType() {
    return mediaType;
  }

  public String extension() {
    return extension;
  }

  /**
   * The type a Content-Type header value declares, parameters ignored.
   *
   * @throws AvatarException UNSUPPORTED_MEDIA_TYPE for a missing header or any other type
   */
  public static ImageType declaredBy(String contentType) {
    if (contentType != null) {
      int semicolon = contentType.indexOf(';');
      String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
      for (ImageType type : values()) {
        if (type.mediaType.equals(media)) {
          return type;
        }
      }
    }
    throw Failure.UNSUPPORTED_TYPE.exception(
      "Content-Type " + (contentType == null ? "is missing" : "'" + quoted(contentType) + "' is not accepted")
        + "; send image/jpeg, image/png, image/gif or image/webp");
  }

  /** A client's value as quoted back in a refusal: at most 64 characters. */
  private static String quoted(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "…";
  }

  /** The type whose signature starts {@code head} (its first {@code length} bytes), or null. */
  public static ImageType sniff(byte[] head, int length) {
    if (startsWith(head, length, 0xFF, 0xD8, 0xFF)) {
      return JPEG;
    }
    if (startsWith(head, length, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return PNG;
    }
    if (startsWith(head, length, 'G', 'I', 'F', '8', '7', 'a') || startsWith(head, length, 'G', 'I', 'F', '8', '9', 'a')) {
      return GIF;
    }
    if (startsWith(head, length, 'R', 'I', 'F', 'F') && length >= 12
      && head[8] == 'W' && head[9] == 'E' && head[10] == 'B' && head[11] == 'P') {
      return WEBP;
    }
    return null;
  }

  private static boolean startsWith(byte[] head, int length, int... signature) {
    if (length < signature.length) {
      return false;
    }
    for (int i = 0; i < signature.length; i++) {
      if ((head[i] & 0xFF) != signature[i]) {
        return false;
      }
    }
    return true;
  }
}
