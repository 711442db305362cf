package io.avatarserver.upload;

import io.avatarserver.avatar.Failure;
import io.avatarserver.support.Bodies;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writing stage against a staged object whose writes complete when the test says: what goes to
 * the file when, how chunks coalesce, when the pipe must pause and when it is woken, and the budget.
 */
@DisplayName("CoalescingWriter: one write in flight, coalescing meanwhile, backpressure and the budget")
class CoalescingWriterTest {

  private static final int CHUNK = 8 * 1024;
  private static final int WRITE_BUFFER = 32 * 1024;
  private static final int SHARE = WRITE_BUFFER + CoalescingWriter.COALESCING_HEADROOM;

  private final byte[] body = Bodies.png(256 * 1024, 3);
  private final FakeStagedObject staged = new FakeStagedObject().holdWrites();
  private final WriteBudget budget = new WriteBudget(1 << 20);
  private final CoalescingWriter writer = new CoalescingWriter(staged, WRITE_BUFFER, budget);
  private int offset;

  /** The next {@code n} bytes of the body, as a chunk of their own. */
  private Buffer next(int n) {
    Buffer chunk = Buffer.buffer(Arrays.copyOfRange(body, offset, offset + n));
    offset += n;
    return chunk;
  }

  private void assertWrittenSoFar() {
    assertArrayEquals(Arrays.copyOf(body, offset), staged.bytes());
  }

  @Test
  @DisplayName("With no write in flight a chunk goes to the file at once, as it is, and nothing is reserved")
  void writesAtOnce() {
    Buffer chunk = next(CHUNK);
    writer.write(chunk);
    assertEquals(1, staged.inFlight());
    assertSame(chunk, staged.written().get(0), "no copy");
    assertFalse(writer.writeQueueFull());
    assertEquals(0, budget.reserved());
  }

  @Test
  @DisplayName("Chunks arriving during a write become one write once it completes; the share is held only meanwhile")
  void coalesces() {
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    writer.write(next(1000));
    writer.write(next(CHUNK));
    assertEquals(List.of(CHUNK), staged.writeSizes(), "one write in flight at a time");
    assertEquals(SHARE, budget.reserved());
    assertFalse(writer.writeQueueFull(), "below writeBufferBytes: the pipe keeps going");

    staged.complete();
    assertEquals(List.of(CHUNK, 2 * CHUNK + 1000), staged.writeSizes());
    assertEquals(SHARE, budget.reserved(), "held while its buffer is being written");
    staged.complete();
    assertEquals(0, budget.reserved());
    assertEquals(0, staged.inFlight());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("Once the coalescing buffer holds writeBufferBytes the queue is full; the drain handler runs when its write starts")
  void fullThenDrained() {
    writer.write(next(CHUNK));
    for (int i = 0; i < WRITE_BUFFER / CHUNK - 1; i++) {
      writer.write(next(CHUNK));
      assertFalse(writer.writeQueueFull(), "after " + (i + 1) + " coalesced chunks");
    }
    writer.write(next(CHUNK));
    assertTrue(writer.writeQueueFull(), "writeBufferBytes waiting behind a write in flight");
    // The chunk or two already on their way when the pipe pauses still fit, within the headroom.
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    assertTrue(writer.writeQueueFull());

    AtomicInteger drained = new AtomicInteger();
    writer.drainHandler(v -> drained.incrementAndGet());
    staged.complete();
    assertEquals(1, drained.get());
    assertFalse(writer.writeQueueFull());
    assertEquals(List.of(CHUNK, WRITE_BUFFER + 2 * CHUNK), staged.writeSizes());
    staged.complete();
    assertEquals(1, drained.get(), "the handler runs once");
    assertEquals(0, budget.reserved());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("Without a share of the budget, one waiting chunk fills the queue; it is then written as it is")
  void noShare() {
    CoalescingWriter poor = new CoalescingWriter(staged, WRITE_BUFFER, new WriteBudget(SHARE - 1));
    poor.write(next(CHUNK));
    Buffer waiting = next(CHUNK);
    poor.write(waiting);
    assertTrue(poor.writeQueueFull(), "the client is paused at once");
    AtomicInteger drained = new AtomicInteger();
    poor.drainHandler(v -> drained.incrementAndGet());
    staged.complete();
    assertEquals(1, drained.get());
    assertSame(waiting, staged.written().get(1), "written as it is, no copy");
    staged.complete();
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("Without a share, chunks already on their way when the pipe paused join the waiting one in an exact-size buffer")
  void noShareTwoWaiting() {
    CoalescingWriter poor = new CoalescingWriter(staged, WRITE_BUFFER, new WriteBudget(0));
    poor.write(next(CHUNK));
    Buffer first = next(CHUNK);
    poor.write(first);
    poor.write(next(100));
    staged.complete();
    assertEquals(List.of(CHUNK, CHUNK + 100), staged.writeSizes());
    assertNotSame(first, staged.written().get(1));
    staged.complete();
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("A chunk of writeBufferBytes or more is not coalesced: it waits as it is and fills the queue")
  void largeChunkNotCoalesced() {
    writer.write(next(CHUNK));
    Buffer large = next(WRITE_BUFFER);
    writer.write(large);
    assertTrue(writer.writeQueueFull());
    assertEquals(0, budget.reserved());
    staged.complete();
    assertSame(large, staged.written().get(1));
    staged.complete();
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("whenIdle succeeds at once when nothing is in flight, else once everything waiting is written")
  void whenIdle() {
    assertTrue(writer.whenIdle().succeeded());
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    Future<Void> idle = writer.whenIdle();
    assertFalse(idle.isComplete());
    staged.complete();
    assertFalse(idle.isComplete(), "the coalesced write is still in flight");
    staged.complete();
    assertTrue(idle.succeeded());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("A failed write stops the writer: what waits is dropped, its share returned, the drain handler and whenIdle told")
  void failedWrite() {
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    assertTrue(writer.writeQueueFull());
    AtomicInteger drained = new AtomicInteger();
    writer.drainHandler(v -> drained.incrementAndGet());
    Future<Void> idle = writer.whenIdle();
    IOException disk = new IOException("disk on fire");
    staged.failNext(disk);
    assertSame(disk, writer.failure());
    assertEquals(1, drained.get(), "the pipe is woken, to find the failure on its next write");
    assertFalse(writer.writeQueueFull());
    assertSame(disk, idle.cause());
    assertEquals(List.of(CHUNK), staged.writeSizes(), "nothing more is written");
    assertEquals(0, budget.reserved());
    assertSame(disk, writer.whenIdle().cause());
  }

  @Test
  @DisplayName("A refusal during a write: the write in flight completes, what waits is dropped and its share returned")
  void refusedMeanwhile() {
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    var refusal = Failure.INVALID_IMAGE.exception("broken");
    writer.fail(refusal);
    writer.fail(new IOException("later"));
    assertSame(refusal, writer.failure(), "the first failure is kept");
    assertEquals(SHARE, budget.reserved());
    staged.complete();
    assertEquals(List.of(CHUNK), staged.writeSizes());
    assertEquals(0, budget.reserved());
    assertEquals(0, staged.inFlight());
  }

  @Test
  @DisplayName("Many uploads' writers together never reserve more than the budget; each returns its share")
  void sharedBudget() {
    WriteBudget shared = new WriteBudget(2L * SHARE);
    List<FakeStagedObject> files = List.of(new FakeStagedObject().holdWrites(), new FakeStagedObject().holdWrites(),
      new FakeStagedObject().holdWrites());
    List<CoalescingWriter> writers = files.stream().map(f -> new CoalescingWriter(f, WRITE_BUFFER, shared)).toList();
    for (CoalescingWriter w : writers) {
      w.write(Buffer.buffer(new byte[CHUNK]));
      w.write(Buffer.buffer(new byte[CHUNK]));
    }
    assertEquals(2L * SHARE, shared.reserved());
    assertFalse(writers.get(0).writeQueueFull());
    assertFalse(writers.get(1).writeQueueFull());
    assertTrue(writers.get(2).writeQueueFull(), "the third got no share: it pauses its client");
    for (FakeStagedObject f : files) {
      f.complete();
      f.complete();
    }
    assertEquals(0, shared.reserved());
  }
}
