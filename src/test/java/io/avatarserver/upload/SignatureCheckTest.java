package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.avatarserver.support.Bodies;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

@DisplayName("SignatureCheck: the first 12 bytes are judged against the declared type before anything passes")
class SignatureCheckTest {

  private static Buffer bytes(byte[] from, int start, int end) {
    return Buffer.buffer(Arrays.copyOfRange(from, start, end));
  }

  @Test
  @DisplayName("Bytes are held until the window is full, then passed on with the rest of that chunk; later chunks pass as they are")
  void heldThenPassed() {
    byte[] webp = Bodies.fixture("images/avatar-200.webp");
    SignatureCheck check = new SignatureCheck(ImageType.WEBP);
    assertNull(check.admit(bytes(webp, 0, 5)));
    assertNull(check.admit(bytes(webp, 5, 5)));
    assertNull(check.admit(bytes(webp, 5, 11)));
    Buffer first = check.admit(bytes(webp, 11, 40));
    assertArrayEquals(Arrays.copyOfRange(webp, 0, 40), first.getBytes());
    Buffer next = bytes(webp, 40, 100);
    assertSame(next, check.admit(next), "no copy once the type is confirmed");
    assertNull(check.end(), "nothing held at the end");
  }

  @Test
  @DisplayName("A first chunk of exactly 12 bytes passes on as the whole window")
  void exactWindow() {
    byte[] png = Bodies.png(4096, 1);
    SignatureCheck check = new SignatureCheck(ImageType.PNG);
    assertArrayEquals(Arrays.copyOf(png, 12), check.admit(bytes(png, 0, 12)).getBytes());
  }

  @Test
  @DisplayName("Another image type than the declared one is CONTENT_TYPE_MISMATCH, however the bytes are cut")
  void mismatch() {
    byte[] jpeg = Bodies.fixture("images/avatar-256.jpg");
    for (int cut = 1; cut <= 12; cut++) {
      SignatureCheck check = new SignatureCheck(ImageType.PNG);
      for (int at = 0; at < 12 - cut; at += cut) {
        assertNull(check.admit(bytes(jpeg, at, at + cut)));
      }
      int last = (11 / cut) * cut;
      AvatarException refused = assertThrows(AvatarException.class, () -> check.admit(bytes(jpeg, last, 64)));
      assertEquals(Failure.CONTENT_TYPE_MISMATCH, refused.failure());
      assertEquals("Declared image/png but the content is image/jpeg", refused.detail());
    }
  }

  @Test
  @DisplayName("Content of no accepted type is UNSUPPORTED_TYPE")
  void unsupported() {
    SignatureCheck check = new SignatureCheck(ImageType.GIF);
    AvatarException refused = assertThrows(AvatarException.class,
      () -> check.admit(Buffer.buffer(Bodies.fixture("hostile/script.svg"))));
    assertEquals(Failure.UNSUPPORTED_TYPE, refused.failure());
    assertEquals("The content is not a JPEG, PNG, GIF or WebP image", refused.detail());
  }

  @Test
  @DisplayName("A body shorter than the window is judged at the end on what there is")
  void shortBody() {
    byte[] png = Bodies.png(4096, 1);
    SignatureCheck pngCheck = new SignatureCheck(ImageType.PNG);
    assertNull(pngCheck.admit(bytes(png, 0, 8)));
    assertArrayEquals(Arrays.copyOf(png, 8), pngCheck.end().getBytes());

    SignatureCheck jpegCheck = new SignatureCheck(ImageType.JPEG);
    assertNull(jpegCheck.admit(bytes(png, 0, 8)));
    AvatarException mismatch = assertThrows(AvatarException.class, jpegCheck::end);
    assertEquals(Failure.CONTENT_TYPE_MISMATCH, mismatch.failure());
    assertEquals("Declared image/jpeg but the content is image/png", mismatch.detail());

    // "RIFF" alone cannot be told from any other RIFF file.
    SignatureCheck webpCheck = new SignatureCheck(ImageType.WEBP);
    assertNull(webpCheck.admit(Buffer.buffer("RIFF")));
    assertEquals(Failure.UNSUPPORTED_TYPE, assertThrows(AvatarException.class, webpCheck::end).failure());

    SignatureCheck empty = new SignatureCheck(ImageType.GIF);
    assertEquals(Failure.UNSUPPORTED_TYPE, assertThrows(AvatarException.class, empty::end).failure());
  }
}
