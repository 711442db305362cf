package io.avatarserver.storage.s3;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * A Reactive Streams {@code Publisher<ByteBuffer>} (an object store's response body) as a Vert.x
 * {@link ReadStream}, with backpressure both ways: at most {@link #WINDOW} chunks are requested and not
 * yet delivered; nothing is requested while the stream is paused (as a pipe pauses it while its
 * destination's write queue is full), so a slow reader makes the store's connection wait, not the heap
 * fill. Every signal is handled on the Vert.x {@code context}; {@link #close} cancels the subscription.
 * Starts paused.
 */
public final class PublisherReadStream implements ReadStream<Buffer>, Subscriber<ByteBuffer> {

  /** Chunks requested from the publisher and not yet handed on; the most this stream holds. */
  public static final int WINDOW = 4;

  private final Context context;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private Subscription subscription;
  private long demand;
  private int requested;
  private boolean completed;
  private boolean ended;
  private boolean closed;
  private Throwable failure;
  private long received;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  public PublisherReadStream(Context context) {
    this.context = context;
  }

  /** Bytes the publisher has delivered so far (to the queue or the handler). */
  public long received() {
    return received;
  }

  // --- Subscriber: any thread; each signal moves to the context.

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
    // A copy: the publisher may reuse its buffer once onNext returns.
    byte[] copy = new byte[bytes.remaining()];
    bytes.get(copy);
    context.runOnContext(v -> {
      requested--;
      if (closed) {
        return;
      }
      received += copy.length;
      queue.add(Buffer.buffer(copy));
      drain();
    });
  }

  @Override
  public void onError(Throwable t) {
    context.runOnContext(v -> {
      failure = t;
      drain();
    });
  }

  @Override
  public void onComplete() {
    context.runOnContext(v -> {
      completed = true;
      drain();
    });
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
      context.runOnContext(v -> drain());
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
    if (subscription != null && !completed && failure == null) {
      subscription.cancel();
    }
  }

  private void drain() {
    while (demand > 0 && !queue.isEmpty() && !closed) {
      Buffer next = queue.poll();
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      if (handler != null) {
        handler.handle(next);
      }
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
      int more = WINDOW - requested - queue.size();
      if (more > 0) {
        requested += more;
        subscription.request(more);
      }
    }
  }
}
