package io.avatarserver.variant;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.avatar.StoredContent;
import io.avatarserver.storage.LocalDirectoryStorage;
import io.avatarserver.support.Bodies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * VariantService against a storage that gives streams (as an object store does), not local files: the
 * original is piped into a scratch file with backpressure, rendered, and the scratch file removed; and
 * the loser of an insert race deletes its own object and returns the winner's row.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("VariantService: streamed originals, scratch files, the lost insert")
class VariantServiceTest {

  private static final String ORIGINAL = "1-original.jpg";

  @TempDir
  Path data;
  private Path avatars;
  private Path tmp;
  private AvatarStorage storage;
  private Avatar avatar;
  private final ImageIoTestRenderer renderer = new ImageIoTestRenderer();

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    avatars = data.resolve("avatars");
    tmp = data.resolve("tmp");
    LocalDirectoryStorage local = new LocalDirectoryStorage(vertx, avatars, tmp);
    local.init().await();
    byte[] original = Bodies.fixture("images/avatar-256.jpg");
    Files.write(avatars.resolve(ORIGINAL), original);
    storage = new Streaming(vertx, local, avatars);
    avatar = new Avatar(1, ORIGINAL, "image/jpeg", original.length, Bodies.sha256(original), 256, 256, 3, Instant.now());
  }

  private VariantService service(Vertx vertx, VariantRepository repository) {
    return new VariantService(vertx, storage, repository, renderer, new RenderPool(vertx, 2, 4), RenderLimits.DEFAULT,
      List.of(16, 32, 64, 128, 256), tmp);
  }

  private List<Path> files(Path dir) throws Exception {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    }
  }

  @Test
  @DisplayName("a streamed original is rendered from a scratch copy, which is gone afterwards; the variant is stored once")
  void streamedOriginal(Vertx vertx) throws Exception {
    Memory repository = new Memory(key -> null);
    VariantService service = service(vertx, repository);
    VariantKey key = new VariantKey(1, 3, 64, VariantFormat.PNG, false);

    StoredVariant stored = service.stored(avatar, key).await();

    assertEquals(key, stored.key());
    byte[] bytes = Files.readAllBytes(avatars.resolve(stored.storageKey()));
    assertEquals(bytes.length, stored.size());
    assertEquals(Bodies.sha256(bytes), stored.sha256());
    assertArrayEquals(new int[] {64, 64}, ImageIoTestRenderer.dimensions(bytes));
    assertEquals(List.of(), files(tmp), "no scratch or staging file left");
    assertEquals(stored, repository.rows.get(key));

    assertEquals(stored, service.stored(avatar, key).await());
    assertEquals(1, renderer.renders.get());
    assertEquals(1, service.renders());
  }

  @Test
  @DisplayName("an insert that loses to another instance's deletes its own object and returns the winner's row")
  void lostInsert(Vertx vertx) throws Exception {
    VariantKey key = new VariantKey(1, 3, 32, VariantFormat.JPEG, false);
    Path winnerFile = avatars.resolve("1-winner.jpeg");
    Files.write(winnerFile, new byte[] {1, 2, 3});
    StoredVariant winner = new StoredVariant(key, "1-winner.jpeg", 3, "00");
    // Not there when looked up first; there by the time this instance inserts.
    Memory repository = new Memory(k -> winner);
    VariantService service = service(vertx, repository);

    StoredVariant stored = service.stored(avatar, key).await();

    assertEquals(winner, stored);
    assertEquals(1, renderer.renders.get());
    assertEquals(List.of(avatars.resolve(ORIGINAL), winnerFile), files(avatars), "the loser's object is deleted");
    assertEquals(List.of(), files(tmp));
  }

  /** Variant rows in memory; {@code racer} gives the row another instance inserts just before this one. */
  private static final class Memory implements VariantRepository {
    final Map<VariantKey, StoredVariant> rows = new ConcurrentHashMap<>();
    private final Function<VariantKey, StoredVariant> racer;

    Memory(Function<VariantKey, StoredVariant> racer) {
      this.racer = racer;
    }

    @Override
    public Future<StoredVariant> find(VariantKey key) {
      return Future.succeededFuture(rows.get(key));
    }

    @Override
    public Future<List<StoredVariant>> list(long userId, long version) {
      return Future.succeededFuture(new ArrayList<>(rows.values()));
    }

    @Override
    public Future<Boolean> insert(StoredVariant variant) {
      StoredVariant other = racer.apply(variant.key());
      if (other != null) {
        rows.putIfAbsent(variant.key(), other);
      }
      return Future.succeededFuture(rows.putIfAbsent(variant.key(), variant) == null);
    }

    @Override
    public Future<List<String>> deleteBelow(long userId, long version) {
      return Future.succeededFuture(List.of());
    }

    @Override
    public Future<Void> delete(StoredVariant variant) {
      rows.remove(variant.key(), variant);
      return Future.succeededFuture();
    }
  }

  /** The local directory, but its objects are read as streams, as from an object store. */
  private static final class Streaming implements AvatarStorage {
    private final Vertx vertx;
    private final LocalDirectoryStorage local;
    private final Path avatars;

    Streaming(Vertx vertx, LocalDirectoryStorage local, Path avatars) {
      this.vertx = vertx;
      this.local = local;
      this.avatars = avatars;
    }

    @Override
    public Future<StoredContent> open(String key) {
      String path = avatars.resolve(key).toString();
      return vertx.fileSystem().props(path).compose(props -> vertx.fileSystem().open(path, new OpenOptions().setRead(true))
        .map(file -> {
          file.pause();
          return new StoredContent.Streamed(file, props.size(), () -> file.close());
        }));
    }

    @Override
    public Future<StagedObject> stage(long ownerId) {
      return local.stage(ownerId);
    }

    @Override
    public Future<List<String>> absent(List<String> keys) {
      return local.absent(keys);
    }

    @Override
    public Future<Void> delete(String key) {
      return local.delete(key);
    }

    @Override
    public Future<Void> checkWritable() {
      return local.checkWritable();
    }

    @Override
    public Future<Long> freeSpace() {
      return local.freeSpace();
    }

    @Override
    public Future<Removed> removeStagedBefore(Instant cutoff) {
      return local.removeStagedBefore(cutoff);
    }

    @Override
    public Future<Removed> removeAllStaged() {
      return local.removeAllStaged();
    }

    @Override
    public Future<Void> scanStoredBefore(Instant cutoff, Function<List<StoredObject>, Future<Void>> page) {
      return local.scanStoredBefore(cutoff, page);
    }
  }
}
