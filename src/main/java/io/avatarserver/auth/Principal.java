package io.avatarserver.auth;

/** Who a verified token speaks for: a user (id 0 when the token names none) and whether it is an admin. */
public record Principal(long userId, boolean admin) {

  /** Owners write their own avatar; admins write any. */
  public boolean mayWriteAvatarOf(long ownerId) {
    return admin || userId == ownerId;
  }
}
