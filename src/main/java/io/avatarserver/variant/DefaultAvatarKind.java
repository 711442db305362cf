package io.avatarserver.variant;

import java.util.Optional;

/**
 * What to answer for a user without an avatar, as chosen by the {@code d=} query parameter:
 * {@code d=404} (or no {@code d}) is {@link #NONE}, today's 404; the others are images rendered by
 * {@link DefaultAvatars}.
 */
public enum DefaultAvatarKind {
  /** {@code d=404}: no image, the usual 404. */
  NONE("404"),
  /** {@code d=identicon}: a symmetric 5×5 pattern from a hash of the user id. */
  IDENTICON("identicon"),
  /** {@code d=initials}: up to two letters of the user's name on a colour chosen from the user id. */
  INITIALS("initials"),
  /** {@code d=mp}: a neutral grey silhouette, the same for everyone. */
  MP("mp");

  private final String token;

  DefaultAvatarKind(String token) {
    this.token = token;
  }

  /** The value of {@code d=} that selects this kind. */
  public String token() {
    return token;
  }

  /** Whether this kind is an image (everything but {@link #NONE}). */
  public boolean rendered() {
    return this != NONE;
  }

  /** Whether the image depends on the user (identicon, initials) or only on the size (mp). */
  public boolean perUser() {
    return this == IDENTICON || this == INITIALS;
  }

  /**
   * The kind a {@code d=} value asks for, ASCII letters compared without regard to case. An absent parameter
   * ({@code null}) is {@link #NONE}; an unknown value (including an empty one) is an empty Optional,
   * which the HTTP layer answers with 400.
   */
  public static Optional<DefaultAvatarKind> parse(String d) {
    if (d == null) {
      return Optional.of(NONE);
    }
    for (DefaultAvatarKind kind : values()) {
      if (equalsAsciiIgnoreCase(kind.token, d)) {
        return Optional.of(kind);
      }
    }
    return Optional.empty();
  }

  /** Only ASCII letters fold: the Kelvin sign is not a "k", nor a dotless "ı" an "i". */
  private static boolean equalsAsciiIgnoreCase(String token, String value) {
    if (token.length() != value.length()) {
      return false;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = value.charAt(i);
      char lower = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
      if (lower != token.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
