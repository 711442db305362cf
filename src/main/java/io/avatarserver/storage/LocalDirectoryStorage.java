package io.avatarserver.storage;

import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.ObjectMissingException;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.avatar.StoredContent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileSystem;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.UUID;

/**
 * Stores avatars as files under {@code avatars/XX/} and stages uploads under {@code tmp/}, both in one
 * data directory so that publishing is a same-filesystem atomic rename. Blocking steps (fsync of a
 * directory, opening a file for zero-copy sending, listing) run on worker threads, never on an event loop.
 */
public final class LocalDirectoryStorage implements AvatarStorage {

  /** Objects handed to the sweep at once. */
  private static final int SCAN_PAGE = 500;

  private final Vertx vertx;
  private final FileSystem fs;
  private final Path avatarsDir;
  private final Path tmpDir;
  private final DirectorySync directorySync;

  /** Makes a directory's entries durable (fsync of the directory); a seam for tests that count them. */
  @FunctionalInterface
  public interface DirectorySync {
    DirectorySync FSYNC = dir -> {
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    };

    void sync(Path dir) throws IOException;
  }

  public LocalDirectoryStorage(Vertx vertx, Path avatarsDir, Path tmpDir) {
    this(vertx, avatarsDir, tmpDir, DirectorySync.FSYNC);
  }

  public LocalDirectoryStorage(Vertx vertx, Path avatarsDir, Path tmpDir, DirectorySync directorySync) {
    this.vertx = vertx;
    this.fs = vertx.fileSystem();
    this.avatarsDir = avatarsDir;
    this.tmpDir = tmpDir;
    this.directorySync = directorySync;
  }

  /** Creates the directories; call once before use. */
  public Future<Void> init() {
    return fs.mkdirs(avatarsDir.toString()).compose(v -> fs.mkdirs(tmpDir.toString()));
  }

  @Override
  public Future<StagedObject> stage(long ownerId) {
    Path path = tmpDir.resolve(ownerId + "-" + UUID.randomUUID() + ".part");
    return vertx.executeBlocking(() -> FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
        false)
      .recover(err -> Future.failedFuture(StorageFailures.translate(err)))
      .map(channel -> new LocalStagedObject(vertx, this, ownerId, path, channel));
  }

  @Override
  public Future<StoredContent> open(String key) {
    Path path = resolve(key);
    // Opening a file is a blocking syscall: on a worker. The channel is what the HTTP layer hands
    // Netty for a zero-copy transfer.
    return vertx.executeBlocking(() -> {
      FileChannel channel;
      try {
        channel = FileChannel.open(path, StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        throw new ObjectMissingException(key);
      }
      try {
        return new StoredContent.LocalFile(channel, channel.size());
      } catch (IOException e) {
        closeQuietly(channel);
        throw e;
      }
    }, false);
  }

  @Override
  public Future<List<String>> absent(List<String> keys) {
    return vertx.executeBlocking(() -> {
      List<String> absent = new ArrayList<>();
      for (String key : keys) {
        if (!Files.exists(resolve(key))) {
          absent.add(key);
        }
      }
      return absent;
    }, false);
  }

  /** Deletes waiting for the next batch, and whether a batch task is queued or running. */
  private final Object deletesLock = new Object();
  private List<PendingDelete> deletes = new ArrayList<>();
  private boolean deleting;

  private record PendingDelete(Path path, io.vertx.core.Context context, io.vertx.core.Promise<Void> done) {
  }

  /**
   * Deletes in batches: a delete asked for while a batch task is queued or running joins the next batch
   * of that same task, so under load one hand-off to a worker serves many replaced files, not one each.
   * Each delete's future completes on the context that asked for it, once its file is gone.
   */
  @Override
  public Future<Void> delete(String key) {
    Path path;
    try {
      path = resolve(key);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    boolean start;
    synchronized (deletesLock) {
      deletes.add(new PendingDelete(path, vertx.getOrCreateContext(), done));
      start = !deleting;
      deleting = true;
    }
    if (start) {
      vertx.executeBlocking(this::runDeletes, false).onFailure(this::failDeletes);
    }
    return done.future();
  }

  /** The batch task could not run (Vert.x is closing): the deletes waiting fail, the next one starts anew. */
  private void failDeletes(Throwable cause) {
    List<PendingDelete> batch;
    synchronized (deletesLock) {
      batch = deletes;
      deletes = new ArrayList<>();
      deleting = false;
    }
    batch.forEach(delete -> delete.context().runOnContext(v -> delete.done().fail(cause)));
  }

  private Void runDeletes() {
    while (true) {
      List<PendingDelete> batch;
      synchronized (deletesLock) {
        if (deletes.isEmpty()) {
          deleting = false;
          return null;
        }
        batch = deletes;
        deletes = new ArrayList<>();
      }
      for (PendingDelete delete : batch) {
        Throwable failure = null;
        try {
          Files.deleteIfExists(delete.path());
        } catch (IOException | RuntimeException e) {
          failure = e;
        }
        Throwable cause = failure;
        delete.context().runOnContext(v -> {
          if (cause == null) {
            delete.done().complete();
          } else {
            delete.done().fail(cause);
          }
        });
      }
    }
  }

  @Override
  public Future<Void> checkWritable() {
    Path probe = tmpDir.resolve(".probe-" + UUID.randomUUID());
    // On a full disk the probe is created but not written: it is deleted either way.
    return fs.writeFile(probe.toString(), io.vertx.core.buffer.Buffer.buffer("ok"))
      .transform(written -> deleteIfExists(probe).compose(deleted -> written.succeeded()
        ? Future.<Void>succeededFuture()
        : Future.<Void>failedFuture(StorageFailures.translate(written.cause()))));
  }

  /** Renames a durable staged file to a new unique key and fsyncs the directory that now holds it. */
  Future<String> publish(Path staged, long ownerId, String extension) {
    String key = String.format(Locale.ROOT, "%02x/%d-%s.%s", ownerId & 0xff, ownerId, UUID.randomUUID(), extension);
    Path target = resolve(key);
    return vertx.executeBlocking(() -> {
      Path dir = target.getParent();
      // Same filesystem, unique name: an atomic rename that never replaces anything. The fan-out
      // directory exists after its first upload: it is created only when the rename finds it missing
      // (creating it every time was 3 % of the server's CPU with small uploads).
      // (A missing staged file fails the second rename the same way.)
      try {
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (NoSuchFileException missingDirectory) {
        Files.createDirectories(dir);
        // The new directory's own entry lives in avatars/: without this fsync a power loss can
        // forget the directory, and with it a file whose row is committed.
        directorySync.sync(avatarsDir);
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
      }
      // A rename keeps the last write's time; the recovery sweep's grace counts from publication.
      Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
      // The rename is durable only once the directory entry is on disk (see fsync(2), "Notes").
      directorySync.sync(dir);
      return key;
    }, false).recover(err -> Future.failedFuture(StorageFailures.translate(err)));
  }

  @Override
  public Future<Long> freeSpace() {
    return vertx.executeBlocking(() -> Files.getFileStore(avatarsDir).getUsableSpace(), false);
  }

  @Override
  public Future<Removed> removeStagedBefore(Instant cutoff) {
    return vertx.executeBlocking(() -> {
      Removed removed = Removed.NONE;
      try (DirectoryStream<Path> files = Files.newDirectoryStream(tmpDir)) {
        for (Path file : files) {
          removed = removed.plus(deleteIfOlder(file, cutoff));
        }
      }
      return removed;
    }, false);
  }

  @Override
  public Future<Removed> removeAllStaged() {
    return vertx.executeBlocking(() -> {
      Removed removed = Removed.NONE;
      try (DirectoryStream<Path> files = Files.newDirectoryStream(tmpDir)) {
        for (Path file : files) {
          removed = removed.plus(deleteRegularFile(file));
        }
      }
      return removed;
    }, false);
  }

  @Override
  public Future<Void> scanStoredBefore(Instant cutoff, Function<List<StoredObject>, Future<Void>> page) {
    // One fan-out directory (avatars/XX/) at a time, listed on a worker, in pages of SCAN_PAGE.
    return vertx.executeBlocking(() -> {
      List<Path> dirs = new ArrayList<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(avatarsDir, Files::isDirectory)) {
        entries.forEach(dirs::add);
      }
      dirs.sort(null);
      return dirs;
    }, false).compose(dirs -> {
      Future<Void> chain = Future.succeededFuture();
      for (Path dir : dirs) {
        chain = chain.compose(v -> vertx.executeBlocking(() -> storedBefore(dir, cutoff), false))
          .compose(objects -> {
            Future<Void> pages = Future.succeededFuture();
            for (int from = 0; from < objects.size(); from += SCAN_PAGE) {
              List<StoredObject> slice = objects.subList(from, Math.min(objects.size(), from + SCAN_PAGE));
              pages = pages.compose(v -> page.apply(slice));
            }
            return pages;
          });
      }
      return chain;
    });
  }

  private List<StoredObject> storedBefore(Path dir, Instant cutoff) throws IOException {
    List<StoredObject> objects = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        try {
          BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
          if (attributes.isRegularFile() && attributes.lastModifiedTime().toInstant().isBefore(cutoff)) {
            objects.add(new StoredObject(avatarsDir.relativize(file).toString(), attributes.size()));
          }
        } catch (NoSuchFileException gone) {
          // Deleted meanwhile (a replacement's old file): nothing to sweep.
        }
      }
    }
    return objects;
  }

  private static Removed deleteIfOlder(Path file, Instant cutoff) throws IOException {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      if (attributes.isRegularFile() && attributes.lastModifiedTime().toInstant().isBefore(cutoff)
        && Files.deleteIfExists(file)) {
        return new Removed(1, attributes.size());
      }
    } catch (NoSuchFileException gone) {
      // Finished or discarded meanwhile.
    }
    return Removed.NONE;
  }

  private static Removed deleteRegularFile(Path file) throws IOException {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      if (attributes.isRegularFile() && Files.deleteIfExists(file)) {
        return new Removed(1, attributes.size());
      }
    } catch (NoSuchFileException gone) {
      // Deleted meanwhile.
    }
    return Removed.NONE;
  }

  /** Reads a file back on a worker and hashes it, 64 KiB at a time. */
  Future<String> sha256(Path path) {
    return vertx.executeBlocking(() -> {
      java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
      try (java.io.InputStream in = java.nio.file.Files.newInputStream(path)) {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) > 0; ) {
          digest.update(buffer, 0, n);
        }
      }
      return java.util.HexFormat.of().formatHex(digest.digest());
    }, false);
  }

  Future<Void> deleteIfExists(Path path) {
    return fs.delete(path.toString()).recover(err ->
      err instanceof io.vertx.core.file.FileSystemException && err.getCause() instanceof NoSuchFileException
        ? Future.succeededFuture()
        : Future.failedFuture(err));
  }

  private Path resolve(String key) {
    Path path = avatarsDir.resolve(key).normalize();
    if (!path.startsWith(avatarsDir)) {
      throw new IllegalArgumentException("storage key escapes the avatar directory: " + key);
    }
    return path;
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Read-only channel: nothing to lose.
    }
  }
}
