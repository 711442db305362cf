package io.avatarserver.avatar;

import io.avatarserver.upload.AvatarUploads;
import io.avatarserver.upload.UploadSession;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongConsumer;

/**
 * The use cases on users and their avatars, in the domain's words: the HTTP layer only translates
 * requests into these calls and their results (or {@link AvatarException}s) into responses.
 */
public final class AvatarService {

  private static final Logger LOG = LoggerFactory.getLogger(AvatarService.class);

  /** The longest name a user may have, after stripping surrounding blanks. */

  private final AvatarRepository repository;
  private final AvatarStorage storage;
  private final AvatarUploads uploads;
  private final LongConsumer staleRow;
  private final Runnable missingObject;

  /**
   * @param staleRow      told the user whose row named an object that is gone, before the row is read
   *                      again: a row cache in front of {@code repository} forgets it (another
   *                      server replaced the avatar); without a cache, nothing to do
   * @param missingObject told each time a current row's object is found missing (a metric)
   */
  public AvatarService(AvatarRepository repository, AvatarStorage storage, AvatarUploads uploads,
                       LongConsumer staleRow, Runnable missingObject) {
    this.repository = repository;
    this.storage = storage;
    this.uploads = uploads;
    this.staleRow = staleRow;
    this.missingObject = missingObject;
  }

  /** A current avatar's row with its bytes, opened: the caller sends or closes {@code content}. */
  public record AvatarContent(Avatar avatar, StoredContent content) {
  }

  /**
   * Creates a user named {@code name} (surrounding blanks stripped). Fails with {@code INVALID_USER}
   * when the name breaks {@code UserNames}' rules (blank, too long, control, format or invisible
   * characters, lone surrogates).
   */
  public Future<User> createUser(String name) {
    String valid;
    try {
      valid = UserNames.valid(name);
    } catch (AvatarException refused) {
      return Future.failedFuture(refused);
    }
    return repository.createUser(valid);
  }

  /**
   * The user's current avatar row: what answers its info, and the validators (SHA-256, time, version)
   * a conditional request is decided on without opening the bytes. Fails with {@code AVATAR_NOT_FOUND}
   * when the user has none.
   */
  public Future<Avatar> current(long userId) {
    return repository.findAvatar(userId).compose(avatar -> avatar == null
      ? Future.failedFuture(Failure.AVATAR_NOT_FOUND.exception("User " + userId + " has no avatar"))
      : Future.succeededFuture(avatar));
  }

  /**
   * Opens the bytes of {@code avatar}, a row {@link #current} gave. When they are gone because the
   * avatar was replaced or deleted since the row was read (or cached), the row is read again and
   * the current one's bytes are opened: the result names the row it serves. Fails with
   * {@code AVATAR_NOT_FOUND} when there is no avatar any more, and with {@code AVATAR_MISSING} (logged
   * as an error, counted) when the current row's object does not exist.
   */
  public Future<AvatarContent> open(Avatar avatar) {
    return open(avatar, 0, avatar.size());
  }

  /**
   * As {@link #open(Avatar)}, for the {@code length} bytes from {@code offset} of {@code avatar}: a
   * backend that reads a range alone opens only those ({@link AvatarStorage#open(String, long, long)}).
   * When the row is read again, the new avatar (whose size may differ) is opened whole.
   */
  public Future<AvatarContent> open(Avatar avatar, long offset, long length) {
    boolean whole = offset == 0 && length == avatar.size();
    return (whole ? storage.open(avatar.storageKey()) : storage.open(avatar.storageKey(), offset, length))
      .map(content -> new AvatarContent(avatar, content))
      .recover(err -> {
        if (!(err instanceof ObjectMissingException)) {
          return Future.failedFuture(err);
        }
        staleRow.accept(avatar.userId());
        return current(avatar.userId()).compose(fresh -> storage.open(fresh.storageKey())
          .map(content -> new AvatarContent(fresh, content))
          .recover(again -> again instanceof ObjectMissingException
            ? Future.failedFuture(missing(fresh))
            : Future.failedFuture(again)));
      });
  }

  private AvatarException missing(Avatar avatar) {
    LOG.error("avatar of user {} (version {}) names stored object {}, which does not exist",
      avatar.userId(), avatar.version(), avatar.storageKey());
    missingObject.run();
    return Failure.AVATAR_MISSING.exception("The avatar of user " + avatar.userId() + " is gone from the storage");
  }

  /**
   * Deletes the user's avatar: the row, then (committed) its bytes; a failure to delete those is
   * logged and left to the recovery sweep. Fails with {@code AVATAR_NOT_FOUND} when there is none.
   */
  public Future<Void> delete(long userId) {
    return repository.deleteAvatar(userId).compose(deleted -> deleted == null
      ? Future.failedFuture(Failure.AVATAR_NOT_FOUND.exception("User " + userId + " has no avatar"))
      : storage.delete(deleted.storageKey()).otherwise(err -> {
          LOG.warn("could not delete avatar file {}: {}", deleted.storageKey(), err.toString());
          return null;
        }));
  }

  /**
   * Starts an upload of the user's new avatar; the session receives the body and finishes with the
   * committed row (see {@link UploadSession}). Fails with {@code USER_NOT_FOUND} when there is no such
   * user, and with the storage's failure when no staging object can be opened.
   */
  public Future<UploadSession> beginUpload(long userId) {
    // Before a byte is read or a file written: an unknown user costs neither.
    return repository.findUser(userId).compose(user -> user == null
      ? Future.failedFuture(Failure.USER_NOT_FOUND.exception("No user has id " + userId))
      : uploads.begin(userId));
  }
}
