package io.avatarserver.storage;

import io.avatarserver.config.ConfigException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The staging area belongs to one running server instance: at start an instance removes every staging
 * file it finds there (a crashed run's), which would destroy the uploads in flight of another instance
 * sharing the directory. So each instance holds an exclusive lock on {@code <staging dir>.lock} (beside
 * it, not in it, where the cleanup would delete it) for as long as it runs; a second instance on the
 * same directory, in this process or another, is refused at start. The operating system drops the lock
 * when the process dies, kill -9 included. On a network filesystem whose locks are not shared between
 * machines this cannot tell, and the rule stays: every instance a data directory of its own.
 */
public final class StagingLock {

  private final FileChannel channel;
  private final FileLock lock;

  private StagingLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** The lock file of the staging directory {@code tmpDir}. */
  public static Path lockFile(Path tmpDir) {
    Path absolute = tmpDir.toAbsolutePath().normalize();
    return absolute.resolveSibling(absolute.getFileName() + ".lock");
  }

  /**
   * Takes the lock of {@code tmpDir}, blocking I/O: on a worker. Fails with a {@link ConfigException}
   * naming the directory when another running instance holds it.
   */
  public static StagingLock acquire(Path tmpDir) throws IOException {
    Path file = lockFile(tmpDir);
    Files.createDirectories(file.getParent());
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException heldInThisProcess) {
      lock = null;
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new ConfigException("the staging directory " + tmpDir + " is in use by another running server instance"
        + " (it holds " + file + "): each instance needs a storage.dataDir of its own");
    }
    return new StagingLock(channel, lock);
  }

  /** Lets the next instance on this directory start. */
  public void release() {
    try {
      lock.release();
      channel.close();
    } catch (IOException ignored) {
      // Closing drops the lock in any case; so does the process's end.
    }
  }
}
