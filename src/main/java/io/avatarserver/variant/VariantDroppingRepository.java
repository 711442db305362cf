package io.avatarserver.variant;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.avatar.User;
import io.vertx.core.Future;

import java.util.List;
import java.util.Set;

/**
 * An avatar repository whose replacements and deletions take the old versions' variants with them:
 * once a save that replaced a row, or a deletion, has committed, the variant rows of the user's
 * earlier versions are deleted and then their objects ({@link VariantService#dropBelow}), before the
 * caller hears of the commit. A failure there is logged and never fails the committed change; the
 * recovery sweep removes what is left (a variant of a version that is not current is unreferenced).
 */
public final class VariantDroppingRepository implements AvatarRepository {

  private final AvatarRepository database;
  private final VariantService variants;

  public VariantDroppingRepository(AvatarRepository database, VariantService variants) {
    this.database = database;
    this.variants = variants;
  }

  @Override
  public Future<SavedAvatar> saveAvatar(long userId, NewAvatar avatar) {
    return database.saveAvatar(userId, avatar).compose(saved -> saved.previous() == null
      ? Future.succeededFuture(saved)
      : variants.dropBelow(userId, saved.current().version()).map(saved));
  }

  @Override
  public Future<Avatar> deleteAvatar(long userId) {
    return database.deleteAvatar(userId).compose(deleted -> deleted == null
      ? Future.succeededFuture(null)
      : variants.dropBelow(userId, deleted.version() + 1).map(deleted));
  }

  @Override
  public Future<Void> migrate() {
    return database.migrate();
  }

  @Override
  public Future<User> createUser(String name) {
    return database.createUser(name);
  }

  @Override
  public Future<User> findUser(long id) {
    return database.findUser(id);
  }

  @Override
  public Future<Avatar> findAvatar(long userId) {
    return database.findAvatar(userId);
  }

  @Override
  public Future<Set<String>> referenced(List<String> keys) {
    return database.referenced(keys);
  }

  @Override
  public Future<List<String>> keysAfter(String after, int limit) {
    return database.keysAfter(after, limit);
  }

  @Override
  public Future<Void> ping() {
    return database.ping();
  }

  @Override
  public Future<Void> close() {
    return database.close();
  }
}
