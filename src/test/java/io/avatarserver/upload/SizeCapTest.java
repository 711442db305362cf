package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@DisplayName("SizeCap: more than maxBytes is refused at the chunk that crosses it, fewer than minBytes at the end")
class SizeCapTest {

  @Test
  @DisplayName("Exactly maxBytes, in any chunks, passes; one byte more is AVATAR_TOO_LARGE")
  void maximum() {
    SizeCap cap = new SizeCap(1000, 0);
    cap.add(400);
    cap.add(0);
    cap.add(600);
    cap.end();
    assertEquals(1000, cap.received());

    AvatarException refused = assertThrows(AvatarException.class, () -> cap.add(1));
    assertEquals(Failure.AVATAR_TOO_LARGE, refused.failure());
    assertEquals("The avatar is larger than the limit of 1000 bytes", refused.detail());
    assertEquals(1001, cap.received(), "the refused chunk is counted");
  }

  @Test
  @DisplayName("A single chunk larger than the cap is refused as it arrives")
  void oneLargeChunk() {
    SizeCap cap = new SizeCap(8192, 0);
    assertEquals(Failure.AVATAR_TOO_LARGE, assertThrows(AvatarException.class, () -> cap.add(8193)).failure());
  }

  @Test
  @DisplayName("Exactly minBytes passes at the end; one byte fewer is AVATAR_TOO_SMALL")
  void minimum() {
    SizeCap enough = new SizeCap(1000, 100);
    enough.add(60);
    enough.add(40);
    enough.end();

    SizeCap shortOne = new SizeCap(1000, 100);
    shortOne.add(99);
    AvatarException refused = assertThrows(AvatarException.class, shortOne::end);
    assertEquals(Failure.AVATAR_TOO_SMALL, refused.failure());
    assertEquals("The avatar has 99 bytes; the minimum is 100", refused.detail());
  }
}
