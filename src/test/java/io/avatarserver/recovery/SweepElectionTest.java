package io.avatarserver.recovery;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.avatar.StoredContent;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.db.JdbcAvatarRepository;
import io.avatarserver.db.PgAvatarRepository;
import io.avatarserver.storage.LocalDirectoryStorage;
import io.avatarserver.storage.s3.S3Storage;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.TestDatabase;
import io.avatarserver.support.TestS3;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several instances on one database sweep the shared stored objects one at a time: on PostgreSQL the
 * sweep's lease is an advisory lock held by a connection of its own, so a second sweeper reports that
 * it is not the leader, and a leader whose connection dies loses the lease to the other at once. Embedded
 * H2 has one process only: every sweeper leads. The object store's listing is visited a bounded page at a time.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Sweep election: one sweeper of the stored objects at a time, taken over when the leader's connection dies; paged listing")
class SweepElectionTest {

  /** Everything written before now is past the grace period of a sweeper whose clock runs an hour ahead. */
  private static final Clock LATER = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));

  @Test
  @DisplayName("While one sweeper holds the lease another is not the leader; released, the other leads; a killed connection hands it over")
  void oneLeaderAtATime(Vertx vertx, @TempDir Path dataDir) throws Exception {
    try (TestDatabase database = TestDatabase.create(vertx, dataDir)) {
      AvatarRepository first = repository(vertx, database);
      AvatarRepository second = repository(vertx, database);
      try {
        first.migrate().await();
        Path avatars = dataDir.resolve("avatars");
        GatedStorage gated = new GatedStorage(new LocalDirectoryStorage(vertx, avatars, dataDir.resolve("tmp-a")));
        LocalDirectoryStorage plain = new LocalDirectoryStorage(vertx, avatars, dataDir.resolve("tmp-b"));
        gated.init().await();
        plain.init().await();
        Sweeper a = new Sweeper(gated, first, Duration.ZERO, LATER);
        Sweeper b = new Sweeper(plain, second, Duration.ZERO, LATER);

        if (!database.isPostgres()) {
          // One process opens embedded H2: each sweeper is the only one, even while another sweeps.
          Future<Sweeper.Report> held = a.sweep();
          gated.entered.future().await(10, TimeUnit.SECONDS);
          assertTrue(b.sweep().await(10, TimeUnit.SECONDS).leader());
          gated.open();
          assertTrue(held.await(10, TimeUnit.SECONDS).leader());
          return;
        }

        Path orphan = storedFile(avatars, "01/1-orphan.png");
        Future<Sweeper.Report> leading = a.sweep();
        gated.entered.future().await(10, TimeUnit.SECONDS);
        // a holds the lease, waiting in its listing: b sweeps only its own staging area.
        Sweeper.Report notLeader = b.sweep().await(10, TimeUnit.SECONDS);
        assertFalse(notLeader.leader());
        assertEquals(AvatarStorage.Removed.NONE, notLeader.unreferenced());
        assertTrue(Files.exists(orphan), "the sweeper that is not the leader deleted a stored file");
        gated.open();
        Sweeper.Report led = leading.await(10, TimeUnit.SECONDS);
        assertTrue(led.leader());
        assertEquals(1, led.unreferenced().objects());
        assertFalse(Files.exists(orphan));
        // Released after the sweep: the other takes it.
        assertTrue(b.sweep().await(10, TimeUnit.SECONDS).leader());

        // The leader's connection is killed mid-sweep: the lease dies with its session.
        Path second1 = storedFile(avatars, "02/2-orphan.png");
        gated.close();
        Future<Sweeper.Report> cut = a.sweep();
        gated.entered.future().await(10, TimeUnit.SECONDS);
        assertFalse(b.sweep().await(10, TimeUnit.SECONDS).leader());
        assertEquals(1, terminateLeaseHolders(vertx, database));
        // The terminated backend releases its locks as it exits, moments after it was signalled.
        Sweeper.Report takenOver = Eventually.await(() -> b.sweep().await(), Sweeper.Report::leader,
          Duration.ofSeconds(10));
        assertTrue(takenOver.leader());
        assertEquals(1, takenOver.unreferenced().objects());
        assertFalse(Files.exists(second1));
        // The old leader, let go on, stops before its next page instead of sweeping beside the new one.
        Path third = storedFile(avatars, "03/3-orphan.png");
        gated.open();
        Throwable lost = cut.transform(ar -> Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);
        assertTrue(lost != null && lost.getMessage().contains("lease was lost"), () -> "old leader: " + lost);
        assertTrue(Files.exists(third), "a sweeper that lost its lease deleted a stored file");
        assertTrue(a.sweep().await(10, TimeUnit.SECONDS).leader());
        assertFalse(Files.exists(third));
      } finally {
        first.close().await();
        second.close().await();
      }
    }
  }

  @Test
  @DisplayName("A bucket of 1,205 unreferenced objects and one referenced is listed and swept in pages of at most 1,000")
  void bucketSweptPageByPage(Vertx vertx, @TempDir Path dataDir) throws Exception {
    TestS3 store = TestS3.shared();
    String bucket = store.newBucket();
    // s3proxy's file store reads every listed file's attributes: a page of 500 may take seconds here.
    ServerConfig config = ServerConfig.fromJson(new JsonObject().put("storage", store.settings(bucket)
      .put("dataDir", dataDir.toString()).put("s3AttemptTimeoutMillis", 30_000).put("s3ApiTimeoutMillis", 60_000)));
    S3Storage s3 = S3Storage.create(vertx, config.storage().s3(), dataDir.resolve("tmp"));
    try (TestDatabase database = TestDatabase.create(vertx, dataDir)) {
      AvatarRepository repository = repository(vertx, database);
      try {
        s3.init().await();
        repository.migrate().await();
        int orphans = 1205;
        for (int i = 0; i < orphans; i++) {
          Path file = store.file(bucket, String.format("avatars/7/orphan-%04d.png", i));
          Files.createDirectories(file.getParent());
          Files.write(file, new byte[] {(byte) i});
        }
        String kept = "avatars/7/kept.png";
        Files.write(store.file(bucket, kept), new byte[] {1, 2, 3});
        long user = repository.createUser("paged").await().id();
        repository.saveAvatar(user, new NewAvatar(kept, "image/png", 3, "0".repeat(64), 1, 1)).await();

        PageCounting counting = new PageCounting(s3);
        Sweeper.Report report = new Sweeper(counting, repository, Duration.ZERO, LATER).sweep().await(60, TimeUnit.SECONDS);
        assertTrue(report.leader());
        assertEquals(orphans, report.unreferenced().objects());
        assertEquals(List.of(), report.missing());
        assertEquals(List.of(kept), store.keys(bucket));
        assertTrue(counting.pages.size() >= 2, () -> "pages: " + counting.pages);
        assertTrue(counting.pages.stream().allMatch(n -> n <= 1000), () -> "pages: " + counting.pages);
        assertEquals(orphans + 1, counting.pages.stream().mapToInt(Integer::intValue).sum());
      } finally {
        repository.close().await();
        s3.close().await();
      }
    }
  }

  private static AvatarRepository repository(Vertx vertx, TestDatabase database) {
    return database.isPostgres()
      ? PgAvatarRepository.create(vertx, database.serverUrl(), 2)
      : JdbcAvatarRepository.create(vertx, database.serverUrl(), 2);
  }

  private static Path storedFile(Path avatars, String key) throws Exception {
    Path file = avatars.resolve(key);
    Files.createDirectories(file.getParent());
    Files.write(file, new byte[] {1});
    return file;
  }

  /**
   * Ends the sessions (other than the asking one) that hold this schema's sweep lease, as a crash of
   * their instance or a cut connection would; returns how many.
   */
  private static int terminateLeaseHolders(Vertx vertx, TestDatabase database) {
    PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(database.serverUrl())).await();
    try {
      return conn.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
          + " AND pid <> pg_backend_pid() AND objsubid = 2"
          + " AND classid::bigint = (hashtext('avatar-server sweep')::bigint + 4294967296) % 4294967296"
          + " AND objid::bigint = (hashtext(current_schema())::bigint + 4294967296) % 4294967296")
        .execute().await().size();
    } finally {
      conn.close().await();
    }
  }

  /** A storage whose listing of stored objects waits, while closed, until opened. */
  private static final class GatedStorage extends Delegating {
    private volatile Promise<Void> gate = Promise.promise();
    private volatile Promise<Void> entered = Promise.promise();

    GatedStorage(LocalDirectoryStorage delegate) {
      super(delegate);
    }

    Future<Void> init() {
      return ((LocalDirectoryStorage) delegate).init();
    }

    void open() {
      gate.tryComplete();
    }

    void close() {
      gate = Promise.promise();
      entered = Promise.promise();
    }

    @Override
    public Future<Void> scanStoredBefore(Instant cutoff, Function<List<StoredObject>, Future<Void>> page) {
      entered.tryComplete();
      return gate.future().compose(v -> delegate.scanStoredBefore(cutoff, page));
    }
  }

  /** Records the size of each page the sweep is handed. */
  private static final class PageCounting extends Delegating {
    final List<Integer> pages = new CopyOnWriteArrayList<>();

    PageCounting(AvatarStorage delegate) {
      super(delegate);
    }

    @Override
    public Future<Void> scanStoredBefore(Instant cutoff, Function<List<StoredObject>, Future<Void>> page) {
      return delegate.scanStoredBefore(cutoff, objects -> {
        pages.add(objects.size());
        return page.apply(new ArrayList<>(objects));
      });
    }
  }

  private abstract static class Delegating implements AvatarStorage {
    final AvatarStorage delegate;

    Delegating(AvatarStorage delegate) {
      this.delegate = delegate;
    }

    @Override
    public Future<StagedObject> stage(long ownerId) {
      return delegate.stage(ownerId);
    }

    @Override
    public Future<StoredContent> open(String key) {
      return delegate.open(key);
    }

    @Override
    public Future<List<String>> absent(List<String> keys) {
      return delegate.absent(keys);
    }

    @Override
    public Future<Void> delete(String key) {
      return delegate.delete(key);
    }

    @Override
    public Future<Void> checkWritable() {
      return delegate.checkWritable();
    }

    @Override
    public Future<Long> freeSpace() {
      return delegate.freeSpace();
    }

    @Override
    public Future<Removed> removeStagedBefore(Instant cutoff) {
      return delegate.removeStagedBefore(cutoff);
    }

    @Override
    public Future<Removed> removeAllStaged() {
      return delegate.removeAllStaged();
    }
  }
}
