package io.avatarserver.storage;

import io.avatarserver.avatar.StagedObject;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;

import java.nio.file.Path;

/** A staged upload in {@code tmp/}: an {@link AsyncFile} opened with create-new. */
public final class LocalStagedObject implements StagedObject {

  private final LocalDirectoryStorage storage;
  private final long ownerId;
  private final Path path;
  private final AsyncFile file;
  private boolean durable;
  private Future<Void> closed;
  private Future<Void> discarded;
  private boolean published;

  LocalStagedObject(LocalDirectoryStorage storage, long ownerId, Path path, AsyncFile file) {
    this.storage = storage;
    this.ownerId = ownerId;
    this.path = path;
    this.file = file;
  }

  /** The staging file, for a backend that sends it on rather than renaming it (the object store's). */
  public Path path() {
    return path;
  }

  @Override
  public Future<Void> write(Buffer data) {
    return file.write(data).recover(err -> Future.failedFuture(StorageFailures.translate(err)));
  }

  @Override
  public Future<Void> overwrite(long position, Buffer bytes) {
    return file.write(bytes, position).recover(err -> Future.failedFuture(StorageFailures.translate(err)));
  }

  @Override
  public Future<String> sha256() {
    return storage.sha256(path);
  }

  @Override
  public Future<Void> end() {
    // flush() is fsync (FileChannel.force); only after it are the bytes durable.
    return file.flush()
      .recover(err -> Future.failedFuture(StorageFailures.translate(err)))
      .compose(v -> close())
      .onSuccess(v -> durable = true);
  }

  @Override
  public Future<String> publish(String extension) {
    if (!durable || discarded != null || published) {
      return Future.failedFuture(new IllegalStateException("staged object is not durable or already settled"));
    }
    published = true;
    return storage.publish(path, ownerId, extension)
      .recover(err -> discardFile().transform(ignored -> Future.failedFuture(err)));
  }

  @Override
  public Future<Void> discard() {
    if (published) {
      return Future.succeededFuture();
    }
    return discardFile();
  }

  private Future<Void> discardFile() {
    if (discarded == null) {
      // close() waits for queued writes, so nothing recreates the file after the delete.
      discarded = close().transform(ignored -> storage.deleteIfExists(path));
    }
    return discarded;
  }

  private Future<Void> close() {
    if (closed == null) {
      closed = file.close();
    }
    return closed;
  }

  @Override
  public StagedObject exceptionHandler(Handler<Throwable> handler) {
    file.exceptionHandler(handler);
    return this;
  }

  @Override
  public StagedObject setWriteQueueMaxSize(int maxSize) {
    file.setWriteQueueMaxSize(maxSize);
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return file.writeQueueFull();
  }

  @Override
  public StagedObject drainHandler(Handler<Void> handler) {
    file.drainHandler(handler);
    return this;
  }
}
