package io.avatarserver.upload;

import io.avatarserver.support.Bodies;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("StoredHash: SHA-256 of exactly the bytes of the buffers fed, slices and off-heap buffers included")
class StoredHashTest {

  @Test
  void slicesAndDirectBuffers() {
    byte[] body = Bodies.png(20_000, 7);
    StoredHash hash = new StoredHash();
    Buffer whole = Buffer.buffer(body);
    hash.update(whole.slice(0, 100));
    hash.update(whole.slice(100, 5000));
    io.netty.buffer.ByteBuf direct = io.netty.buffer.Unpooled.directBuffer(20_000);
    try {
      Buffer offHeap = io.vertx.core.internal.buffer.BufferInternal.buffer(direct)
        .appendBytes(body, 5000, body.length - 5000);
      hash.update(offHeap);
    } finally {
      direct.release();
    }
    assertEquals(Bodies.sha256(body), hash.hex());
  }
}
