package io.avatarserver.recovery;

import io.avatarserver.db.AvatarRepository;
import io.avatarserver.storage.AvatarStorage;
import io.avatarserver.storage.AvatarStorage.Removed;
import io.avatarserver.storage.AvatarStorage.StoredObject;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The recovery sweep: what a crash (or a failed cleanup) can leave behind, removed. Temporary files
 * older than the grace period are uploads nobody will finish; stored files older than the grace
 * period that no row references are the bytes of an upload that crashed between publish and commit,
 * or of a replaced avatar whose deletion failed. The grace period keeps the uploads in flight on
 * another instance safe: theirs are younger. A referenced file is never deleted: each page of old
 * files is checked against the rows just before its unreferenced ones are removed, and a file is
 * referenced only by the upload that published it, which commits within seconds of publishing.
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
  private Future<Report> running;

  /** One sweep's result. */
  public record Report(Removed staged, Removed unreferenced) {
  }

  public Sweeper(AvatarStorage storage, AvatarRepository repository, Duration grace, Clock clock) {
    this.storage = storage;
    this.repository = repository;
    this.grace = grace;
    this.clock = clock;
  }

  /** Runs one sweep; while one runs, a second call joins it instead of starting another. */
  public synchronized Future<Report> sweep() {
    if (running != null && !running.isComplete()) {
      return running;
    }
    long started = System.nanoTime();
    Instant cutoff = clock.instant().minus(grace);
    running = storage.removeStagedBefore(cutoff)
      .compose(staged -> unreferencedBefore(cutoff).map(unreferenced -> new Report(staged, unreferenced)))
      .onSuccess(report -> {
        stagedRemoved.addAndGet(report.staged().objects());
        unreferencedRemoved.addAndGet(report.unreferenced().objects());
        bytesRemoved.addAndGet(report.staged().bytes() + report.unreferenced().bytes());
        LOG.info("sweep removed {} temporary and {} unreferenced files ({} bytes) older than {} in {} ms",
          report.staged().objects(), report.unreferenced().objects(),
          report.staged().bytes() + report.unreferenced().bytes(), cutoff,
          (System.nanoTime() - started) / 1_000_000);
      })
      .onFailure(err -> LOG.warn("sweep failed, will try again at the next run: {}", err.toString()));
    return running;
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

  private Future<Removed> unreferencedBefore(Instant cutoff) {
    Removed[] total = {Removed.NONE};
    return storage.scanStoredBefore(cutoff, page -> removeUnreferenced(page)
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

  public long bytesRemoved() {
    return bytesRemoved.get();
  }
}
