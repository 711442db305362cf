package io.avatarserver.storage.s3;

import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.ReadStream;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Reactive Streams {@code Publisher<ByteBuffer>} (an object store's response body) as a Vert.x
 * {@link ReadStream}, with backpressure both ways. What is requested from the publisher and not yet
 * delivered, plus what is delivered and not yet handed on, is kept within {@link #WINDOW_BYTES}: a request
 * is sized by the largest chunk seen so far (at least {@link #MIN_CHUNK}, {@link #FIRST_CHUNK} before
 * the first), so at most {@code WINDOW_BYTES / MIN_CHUNK} = 8 chunks are ever outstanding, and at most
 * {@code WINDOW_BYTES} bytes unless a chunk outgrows every chunk before it (the SDK's are 8 KiB at most).
 * A window of 256 KiB measured no faster than this one, and would hold four times as much per slow reader. Nothing is requested while the
 * stream is paused (as a pipe pauses it while its destination's write queue is full), so a slow reader
 * makes the store's connection wait, not the heap fill.
 *
 * <p>Chunks are not copied: the SDK's Netty client hands each {@code onNext} a fresh heap buffer (it
 * copies the socket's bytes out of Netty's buffer precisely so that a subscriber may keep them), which is
 * wrapped. The chunks that arrive while the context is busy are moved to it by one task, and handed on
 * as one {@link Buffer} (a composite, no copy): one write, one flush, for many small chunks of the SDK.
 * Every signal is handled on the Vert.x {@code context}; {@link #close} cancels the subscription.
 * Starts paused.
 */
public final class PublisherReadStream implements ReadStream<Buffer>, Subscriber<ByteBuffer> {

  /** Bytes requested from the publisher or queued here, not yet handed on: the most this stream holds. */
  public static final int WINDOW_BYTES = 64 * 1024;
  /** The least chunk size a request is sized by: never more than {@code WINDOW_BYTES / MIN_CHUNK} chunks outstanding. */
  static final int MIN_CHUNK = 8 * 1024;
  /** The chunk size assumed before the first arrived (the publisher's reads are at most this large). */
  static final int FIRST_CHUNK = 64 * 1024;

  private final ContextInternal context;
  // From the publisher's thread to the context: the chunks, then the end; one task at a time takes them.
  private final ConcurrentLinkedQueue<ByteBuffer> inbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean publisherCompleted;
  private volatile Throwable publisherFailure;

  // On the context only.
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private Subscription subscription;
  private long demand;
  private int requested;
  private long queuedBytes;
  private int chunkSize = FIRST_CHUNK;
  private boolean sized;
  private boolean completed;
  private boolean ended;
  private boolean closed;
  private boolean draining;
  private Throwable failure;
  private long received;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  public PublisherReadStream(Context context) {
    this.context = (ContextInternal) context;
  }

  /** Bytes the publisher has delivered so far (to the queue or the handler). */
  public long received() {
    return received;
  }

  // --- Subscriber: any thread; signals go to the inbox, one task moves them to the context.

  @Override
  public void onSubscribe(Subscription s) {
    context.runOnContext(v -> {
      if (subscription != null || closed) {
        s.cancel();
        return;
      }
      subscription = s;
      drain();
    });
  }

  @Override
  public void onNext(ByteBuffer bytes) {
    inbox.add(bytes);
    schedule();
  }

  @Override
  public void onError(Throwable t) {
    publisherFailure = t;
    schedule();
  }

  @Override
  public void onComplete() {
    publisherCompleted = true;
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> take());
    }
  }

  /** Moves what the publisher delivered to the queue, as one buffer, then drains. */
  private void take() {
    scheduled.set(false);
    // Read the end before the chunks: every chunk delivered before it is then in the inbox.
    boolean done = publisherCompleted;
    Throwable failed = publisherFailure;
    CompositeByteBuf batch = null;
    ByteBuffer next;
    while ((next = inbox.poll()) != null) {
      requested--;
      int size = next.remaining();
      chunkSize = Math.max(sized ? chunkSize : MIN_CHUNK, size);
      sized = true;
      if (closed || size == 0) {
        continue;
      }
      received += size;
      if (batch == null) {
        batch = Unpooled.compositeBuffer(WINDOW_BYTES / MIN_CHUNK + 1);
      }
      batch.addComponent(true, Unpooled.wrappedBuffer(next));
    }
    if (batch != null) {
      queuedBytes += batch.readableBytes();
      queue.add(BufferInternal.buffer(batch));
    }
    if (failed != null) {
      failure = failed;
    } else if (done) {
      completed = true;
    }
    drain();
  }

  // --- ReadStream: on the context.

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    this.handler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    demand = 0;
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    if (amount > 0) {
      demand = demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
      // On the context's thread (a pipe resuming on its destination's drain): at once, without a task.
      if (context.inThread()) {
        drain();
      } else {
        context.runOnContext(v -> drain());
      }
    }
    return this;
  }

  /** Cancels the subscription and drops what is queued; harmless twice. */
  public void close() {
    context.runOnContext(v -> cancel());
  }

  private void cancel() {
    if (closed) {
      return;
    }
    closed = true;
    queue.clear();
    queuedBytes = 0;
    if (subscription != null && !completed && failure == null) {
      subscription.cancel();
    }
  }

  private void drain() {
    if (draining) {
      // A handler that fetches more: the loop below hands it on.
      return;
    }
    draining = true;
    try {
      while (demand > 0 && !queue.isEmpty() && !closed) {
        Buffer next = queue.poll();
        queuedBytes -= next.length();
        if (demand != Long.MAX_VALUE) {
          demand--;
        }
        if (handler != null) {
          handler.handle(next);
        }
      }
    } finally {
      draining = false;
    }
    if (closed || ended) {
      return;
    }
    if (queue.isEmpty() && failure != null) {
      ended = true;
      if (exceptionHandler != null) {
        exceptionHandler.handle(failure);
      }
      return;
    }
    if (queue.isEmpty() && completed) {
      ended = true;
      if (endHandler != null) {
        endHandler.handle(null);
      }
      return;
    }
    // Ask for more only while someone reads: a paused stream requests nothing.
    if (subscription != null && demand > 0 && !completed && failure == null) {
      long room = WINDOW_BYTES - queuedBytes - (long) requested * chunkSize;
      int more = (int) (room / chunkSize);
      if (more > 0) {
        requested += more;
        subscription.request(more);
      }
    }
  }
}
