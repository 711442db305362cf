package io.avatarserver.recovery;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.AvatarStorage.Removed;
import io.avatarserver.avatar.AvatarStorage.StoredObject;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The recovery sweep: what a crash (or a failed cleanup) can leave behind, removed. Temporary files
 * older than the grace period are uploads nobody will finish; stored files older than the grace
 * period that no row references are the bytes of an upload that crashed between publish and commit,
 * or of a replaced avatar whose deletion failed. The grace period keeps the uploads in flight on
 * another instance safe: theirs are younger. A referenced file is never deleted: each page of old
 * files is checked against the rows just before its unreferenced ones are removed, and a file is
 * referenced only by the upload that published it, which commits within seconds of publishing.
 *
 * <p>The opposite damage is reported, not repaired: a row whose key names no stored object (lost
 * to a disk failure or a hand-deleted file) is logged as an error, one line per key, and counted.
 * Such a row is missing only if it still references the key after the object was found absent: keys
 * are never reused and a row's old object is deleted only after the row moved on.
 *
 * <p>Several instances. Each sweeps its own staging area. The stored objects, shared by every instance
 * on the database, are swept by one instance at a time: the one holding the repository's sweep lease
 * (on PostgreSQL an advisory lock, which dies with its holder's session, so another instance takes
 * over at its next sweep when the leader dies). Sweeping twice at once would not be unsafe (each page
 * is checked against the rows just before its deletions), only wasted work on a bucket of millions.
 */
public final class Sweeper {

  private static final Logger LOG = LoggerFactory.getLogger(Sweeper.class);

  private final AvatarStorage storage;
  private final AvatarRepository repository;
  private final Duration grace;
  private final Clock clock;
  private final AtomicLong stagedRemoved = new AtomicLong();
  private final AtomicLong unreferencedRemoved = new AtomicLong();
  private final AtomicLong bytesRemoved = new AtomicLong();
  private final AtomicLong missingObjects = new AtomicLong();
  private Future<Report> running;

  /** Rows whose objects the sweep checks at once. */
  private static final int ROW_PAGE = 500;

  /**
   * One sweep's result; {@code missing}: the keys of rows whose stored object does not exist.
   * {@code leader}: whether this instance swept the stored objects; when false, another instance held
   * the sweep's lease and only this instance's staging area was swept ({@code unreferenced} is none,
   * {@code missing} empty).
   */
  public record Report(Removed staged, Removed unreferenced, List<String> missing, boolean leader) {
  }

  public Sweeper(AvatarStorage storage, AvatarRepository repository, Duration grace, Clock clock) {
    this.storage = storage;
    this.repository = repository;
    this.grace = grace;
    this.clock = clock;
  }

  /**
   * Runs one sweep; while one runs, a second call joins it instead of starting another. The staging
   * area is this instance's own and always swept. The stored objects are shared by every instance on
   * the database: they are swept only under the repository's sweep lease, by one instance at a time;
   * the others report that they are not the leader. A lease lost during the sweep (its connection
   * cut) stops it before the next page.
   */
  public synchronized Future<Report> sweep() {
    if (running != null && !running.isComplete()) {
      return running;
    }
    long started = System.nanoTime();
    Instant cutoff = clock.instant().minus(grace);
    running = storage.removeStagedBefore(cutoff)
      .compose(staged -> repository.trySweepLease().compose(lease -> lease == null
        ? Future.succeededFuture(new Report(staged, Removed.NONE, List.of(), false))
        : sweepStored(cutoff, lease)
          .map(stored -> new Report(staged, stored.unreferenced(), stored.missing(), true))
          .eventually(lease::release)))
      .onSuccess(report -> {
        stagedRemoved.addAndGet(report.staged().objects());
        bytesRemoved.addAndGet(report.staged().bytes() + report.unreferenced().bytes());
        if (!report.leader()) {
          LOG.info("sweep removed {} temporary files ({} bytes) older than {}; not the leader: another instance"
              + " sweeps the stored files now", report.staged().objects(), report.staged().bytes(), cutoff);
          return;
        }
        missingObjects.set(report.missing().size());
        unreferencedRemoved.addAndGet(report.unreferenced().objects());
        LOG.info("sweep removed {} temporary and {} unreferenced files ({} bytes) older than {}, found {} rows"
            + " whose file is missing, in {} ms",
          report.staged().objects(), report.unreferenced().objects(),
          report.staged().bytes() + report.unreferenced().bytes(), cutoff, report.missing().size(),
          (System.nanoTime() - started) / 1_000_000);
      })
      .onFailure(err -> LOG.warn("sweep failed, will try again at the next run: {}", err.toString()));
    return running;
  }

  private Future<Report> sweepStored(Instant cutoff, AvatarRepository.SweepLease lease) {
    return unreferencedBefore(cutoff, lease).compose(unreferenced -> findMissing(lease)
      .map(missing -> new Report(Removed.NONE, unreferenced, missing, true)));
  }

  /** Fails when the lease was lost: another instance may be sweeping now. */
  private static Future<Void> stillLeading(AvatarRepository.SweepLease lease) {
    return lease.held() ? Future.succeededFuture()
      : Future.failedFuture(new IllegalStateException("the sweep's lease was lost (its database connection closed)"));
  }

  /** The keys of rows whose object is missing, checked a page of rows at a time. */
  private Future<List<String>> findMissing(AvatarRepository.SweepLease lease) {
    List<String> missing = new ArrayList<>();
    return missingAfter("", missing, lease).map(v -> missing);
  }

  private Future<Void> missingAfter(String after, List<String> missing, AvatarRepository.SweepLease lease) {
    return stillLeading(lease).compose(v -> repository.keysAfter(after, ROW_PAGE)).compose(keys -> {
      if (keys.isEmpty()) {
        return Future.succeededFuture();
      }
      return storage.absent(keys)
        .compose(absent -> absent.isEmpty() ? Future.succeededFuture(Set.<String>of()) : repository.referenced(absent))
        .compose(stillReferenced -> {
          for (String key : stillReferenced) {
            LOG.error("sweep: an avatar row references {}, which is not in the storage", key);
            missing.add(key);
          }
          return keys.size() < ROW_PAGE ? Future.succeededFuture() : missingAfter(keys.get(keys.size() - 1), missing, lease);
        });
    });
  }

  /**
   * At start, before this process accepts an upload: every staging object there is was abandoned by
   * an earlier run (a crash, a kill -9), since the staging area is this instance's alone. They are
   * removed at once, without the grace period, which stays for stored files: another instance's
   * commit may be in flight. A failure is logged and left to the periodic sweep; it never stops the start.
   */
  public Future<Removed> removeEarlierRunsStaging() {
    return storage.removeAllStaged()
      .onSuccess(removed -> {
        stagedRemoved.addAndGet(removed.objects());
        bytesRemoved.addAndGet(removed.bytes());
        LOG.info("start: removed {} temporary files ({} bytes) of an earlier run", removed.objects(), removed.bytes());
      })
      .recover(err -> {
        LOG.warn("start: could not remove the temporary files of an earlier run, the sweep will: {}", err.toString());
        return Future.succeededFuture(Removed.NONE);
      });
  }

  private Future<Removed> unreferencedBefore(Instant cutoff, AvatarRepository.SweepLease lease) {
    Removed[] total = {Removed.NONE};
    return storage.scanStoredBefore(cutoff, page -> stillLeading(lease).compose(v -> removeUnreferenced(page))
        .onSuccess(removed -> total[0] = total[0].plus(removed))
        .mapEmpty())
      .map(v -> total[0]);
  }

  private Future<Removed> removeUnreferenced(List<StoredObject> page) {
    return repository.referenced(page.stream().map(StoredObject::key).toList()).compose(referenced -> {
      Future<Removed> chain = Future.succeededFuture(Removed.NONE);
      for (StoredObject object : page) {
        if (!referenced.contains(object.key())) {
          chain = chain.compose(sum -> storage.delete(object.key()).map(v -> {
            LOG.info("sweep: deleted unreferenced {} ({} bytes)", object.key(), object.size());
            return sum.plus(new Removed(1, object.size()));
          }));
        }
      }
      return chain;
    });
  }

  /** Temporary files removed since start. */
  public long stagedRemoved() {
    return stagedRemoved.get();
  }

  /** Unreferenced avatar files removed since start. */
  public long unreferencedRemoved() {
    return unreferencedRemoved.get();
  }

  /** Rows whose stored object the last sweep found missing. */
  public long missingObjects() {
    return missingObjects.get();
  }

  public long bytesRemoved() {
    return bytesRemoved.get();
  }
}
