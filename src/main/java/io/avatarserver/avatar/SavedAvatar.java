package io.avatarserver.avatar;

/** The committed row, and the row it replaced (null for a first avatar), whose bytes may now go. */
public record SavedAvatar(Avatar current, Avatar previous) {
  public boolean replaced() {
    return previous != null;
  }
}
