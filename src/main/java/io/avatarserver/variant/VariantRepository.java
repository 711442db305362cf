package io.avatarserver.variant;

import io.vertx.core.Future;

import java.util.List;

/**
 * The {@code variants} table. Every method fails with {@code AvatarException(DATABASE_UNAVAILABLE)}
 * when the database cannot be reached or fails for reasons of its own.
 */
public interface VariantRepository {

  /** Succeeds with the variant's row, or with null when it has not been stored. */
  Future<StoredVariant> find(VariantKey key);

  /** The stored variants of one avatar version. */
  Future<List<StoredVariant>> list(long userId, long version);

  /**
   * Records a stored variant. Succeeds with true, or with false when a row for the same key exists
   * already (another render won): the caller deletes its object and serves the winner's.
   */
  Future<Boolean> insert(StoredVariant variant);

  /**
   * Deletes the variant rows of the user's versions below {@code version} and succeeds with their
   * storage keys, for the caller to delete the objects (after this commit).
   */
  Future<List<String>> deleteBelow(long userId, long version);

  /** Deletes the row of a variant whose object turned out to be gone, so that it is rendered again. */
  Future<Void> delete(StoredVariant variant);
}
