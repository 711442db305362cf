package io.avatarserver.storage.s3;

import io.avatarserver.avatar.StagedObject;
import io.avatarserver.storage.LocalStagedObject;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/**
 * An upload for the object store: staged in a local file exactly as for the local backend (written and
 * hashed there), then published by one PUT of that file; the file is deleted either way. The file is not
 * fsynced: only this process reads it back (the page cache serves the PUT), it is deleted after the PUT
 * and, after a crash, at the next start; what makes the upload durable is the store's acknowledgement.
 */
final class S3StagedObject implements StagedObject {

  private final S3Storage storage;
  private final LocalStagedObject file;
  private final long ownerId;
  private boolean durable;
  private boolean settled;

  S3StagedObject(S3Storage storage, LocalStagedObject file, long ownerId) {
    this.storage = storage;
    this.file = file;
    this.ownerId = ownerId;
  }

  @Override
  public Future<Void> write(Buffer data) {
    return file.write(data);
  }

  @Override
  public Future<Void> overwrite(long position, Buffer bytes) {
    return file.overwrite(position, bytes);
  }

  @Override
  public Future<String> sha256() {
    return file.sha256();
  }

  @Override
  public Future<Void> end() {
    // In the chain, not a listener beside it (see LocalStagedObject.end).
    return file.end(false).map(v -> {
      durable = true;
      return null;
    });
  }

  @Override
  public Future<String> publish(String extension) {
    return publish(extension, null);
  }

  @Override
  public Future<String> publish(String extension, String sha256) {
    if (!durable || settled) {
      return Future.failedFuture(new IllegalStateException("staged object is not durable or already settled"));
    }
    settled = true;
    Future<String> hash = sha256 != null ? Future.succeededFuture(sha256) : file.sha256();
    // Stored (acknowledged) or not, the staging file has served its purpose.
    return hash.compose(hex -> storage.put(file.path(), file.size(), ownerId, extension, hex))
      .transform(put -> file.discard().transform(ignored -> put.succeeded()
        ? Future.succeededFuture(put.result()) : Future.<String>failedFuture(put.cause())));
  }

  @Override
  public Future<Void> discard() {
    return file.discard();
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
