package io.avatarserver.avatar;

import io.vertx.core.Future;

import java.time.Instant;
import java.util.List;
import java.util.function.Function;

/**
 * Where avatar bytes live. An upload is written to a {@link StagedObject} first and becomes a stored
 * object under a new, never reused key only by {@link StagedObject#publish}; stored objects are never
 * overwritten, so a reader of a key always sees complete bytes. It speaks keys, bytes
 * and streams, never a protocol. A local directory ({@code storage.LocalDirectoryStorage}) or an
 * S3-compatible object store ({@code storage.s3.S3Storage}).
 */
public interface AvatarStorage {

  /**
   * Opens a new, empty staging object for one upload by {@code ownerId}.
   * Fails with a {@code AvatarException(STORAGE_FULL)} when the backend is out of space, and
   * with the backend's own exception for any other fault.
   */
  Future<StagedObject> stage(long ownerId);

  /**
   * Opens the stored object {@code key} for reading; the caller closes what it gets. That may also be
   * a {@link StoredContent.Redirect} to where the client fetches the bytes itself (whose existence is
   * then not checked). Fails with {@link ObjectMissingException} when no object has that key.
   */
  Future<StoredContent> open(String key);

  /**
   * Opens the stored object {@code key} for reading at least its {@code length} bytes from
   * {@code offset} (a byte range within it): a backend that can read a range alone (an object store)
   * opens that range only, as a {@link StoredContent.Streamed} whose offset says where it starts; the
   * others open the whole object. Fails as {@link #open(String)}.
   */
  default Future<StoredContent> open(String key, long offset, long length) {
    return open(key);
  }

  /** Those of {@code keys} (a bounded page) that name no stored object; for the recovery sweep. */
  Future<List<String>> absent(List<String> keys);

  /** Deletes a stored object. Succeeds when it is already gone. */
  Future<Void> delete(String key);

  /** Succeeds when the backend accepts writes now; fails with the reason otherwise. */
  Future<Void> checkWritable();

  /** Bytes still free where new objects are written. */
  Future<Long> freeSpace();

  /**
   * Deletes the staging objects last written before {@code cutoff}: uploads that a crash abandoned.
   * Succeeds with what was removed.
   */
  Future<Removed> removeStagedBefore(Instant cutoff);

  /**
   * Deletes every staging object, whatever its age. Only for the start, before this process accepts
   * an upload: the staging area belongs to one server instance (it must not be shared; stored
   * objects may be), so whatever it holds then was abandoned by an earlier run that crashed.
   * Succeeds with what was removed.
   */
  Future<Removed> removeAllStaged();

  /**
   * Visits the stored objects last modified (for a local file: published) before {@code cutoff}, a bounded
   * page at a time: {@code page} is called with the next page only once the future it returned for the
   * previous one has completed. Succeeds once every page was visited.
   */
  Future<Void> scanStoredBefore(Instant cutoff, Function<List<StoredObject>, Future<Void>> page);

  /** A stored object as the recovery sweep sees it. */
  record StoredObject(String key, long size) {
  }

  /** What a cleanup removed. */
  record Removed(long objects, long bytes) {
    public static final Removed NONE = new Removed(0, 0);

    public Removed plus(Removed other) {
      return new Removed(objects + other.objects, bytes + other.bytes);
    }
  }
}
