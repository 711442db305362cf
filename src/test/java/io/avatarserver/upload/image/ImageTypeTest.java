package io.avatarserver.upload.image;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.avatarserver.support.Bodies;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

@DisplayName("ImageType: declared by Content-Type, recognised by its first bytes")
class ImageTypeTest {

  @Test
  @DisplayName("The media type decides, parameters and case ignored")
  void declared() {
    assertEquals(ImageType.JPEG, ImageType.declaredBy("image/jpeg"));
    assertEquals(ImageType.PNG, ImageType.declaredBy(" Image/PNG ; charset=binary"));
    assertEquals(ImageType.GIF, ImageType.declaredBy("image/gif"));
    assertEquals(ImageType.WEBP, ImageType.declaredBy("image/webp;q=1"));
    assertEquals("webp", ImageType.WEBP.extension());
  }

  @Test
  @DisplayName("A missing or other Content-Type is UNSUPPORTED_TYPE with the accepted types named")
  void refused() {
    AvatarException missing = assertThrows(AvatarException.class, () -> ImageType.declaredBy(null));
    assertEquals(Failure.UNSUPPORTED_TYPE, missing.failure());
    assertEquals("Content-Type is missing; send image/jpeg, image/png, image/gif or image/webp", missing.detail());
    AvatarException svg = assertThrows(AvatarException.class, () -> ImageType.declaredBy("image/svg+xml"));
    assertEquals("Content-Type 'image/svg+xml' is not accepted; send image/jpeg, image/png, image/gif or image/webp",
      svg.detail());
  }

  @Test
  @DisplayName("Each format is told by its signature; anything else, or too few bytes, is none")
  void sniff() {
    assertEquals(ImageType.JPEG, sniff(Bodies.fixture("images/avatar-256.jpg")));
    assertEquals(ImageType.PNG, sniff(Bodies.fixture("images/avatar-128.png")));
    assertEquals(ImageType.GIF, sniff(Bodies.fixture("images/avatar-64.gif")));
    assertEquals(ImageType.GIF, sniff("GIF87a......".getBytes()));
    assertEquals(ImageType.WEBP, sniff(Bodies.fixture("images/avatar-200.webp")));
    assertNull(sniff("RIFF\0\0\0\0WAVE".getBytes()));
    assertNull(sniff(Bodies.fixture("hostile/script.svg")));
    assertNull(ImageType.sniff(Bodies.fixture("images/avatar-200.webp"), 11), "RIFF alone is not WebP");
    assertNull(ImageType.sniff(Bodies.fixture("images/avatar-128.png"), 7));
  }

  private static ImageType sniff(byte[] bytes) {
    return ImageType.sniff(bytes, Math.min(bytes.length, ImageType.SNIFF_BYTES));
  }
}
