package io.avatarserver.upload.image;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import static io.avatarserver.upload.image.Parsing.bytes;
import static io.avatarserver.upload.image.Parsing.parse;
import static io.avatarserver.upload.image.Parsing.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("JpegParser: dimensions from the frame header, metadata segments stripped, broken streams refused")
class JpegParserTest {

  private static final byte[] AVATAR = Bodies.fixture("images/avatar-256.jpg");

  private static byte[] with(Images.Segment... segments) {
    return Images.jpegWith(AVATAR, segments);
  }

  /** The avatar with its frame header's height and width replaced. */
  private static byte[] withSize(int width, int height) {
    byte[] jpeg = AVATAR.clone();
    int sof = 2;
    while ((jpeg[sof + 1] & 0xff) != 0xC0) {
      sof += 2 + ((jpeg[sof + 2] & 0xff) << 8 | (jpeg[sof + 3] & 0xff));
    }
    jpeg[sof + 5] = (byte) (height >> 8);
    jpeg[sof + 6] = (byte) height;
    jpeg[sof + 7] = (byte) (width >> 8);
    jpeg[sof + 8] = (byte) width;
    return jpeg;
  }

  @Test
  @DisplayName("A plain JPEG is stored unchanged, with its dimensions")
  void plain() {
    Parsing.Parsed parsed = parse(ImageType.JPEG, AVATAR);
    assertArrayEquals(AVATAR, parsed.stored());
    assertEquals(256, parsed.width());
    assertEquals(256, parsed.height());
    assertEquals(0, parsed.patches());
  }

  @Test
  @DisplayName("Kept: JFIF, ICC profiles, Adobe. Dropped: EXIF, XMP, comments, IPTC, other APPn, mislabelled APP2/APP14")
  void stripped() {
    byte[] image = with(
      new Images.Segment(0xE1, Images.exifPayload(Images.cameraTiff(false, 0))),
      new Images.Segment(0xE1, "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>".getBytes(StandardCharsets.US_ASCII)),
      new Images.Segment(0xFE, "shot by me".getBytes(StandardCharsets.US_ASCII)),
      new Images.Segment(0xED, "Photoshop 3.0\0".getBytes(StandardCharsets.US_ASCII)),
      new Images.Segment(0xE2, Images.concat("ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII), new byte[3000])),
      new Images.Segment(0xE2, "MPF\0 not a profile".getBytes(StandardCharsets.US_ASCII)),
      new Images.Segment(0xEE, "Adobe\0d\0\0\0\0\1".getBytes(StandardCharsets.US_ASCII)),
      new Images.Segment(0xEE, "Other".getBytes(StandardCharsets.US_ASCII)),
      new Images.Segment(0xE5, "vendor data".getBytes(StandardCharsets.US_ASCII)));
    Parsing.Parsed parsed = parse(ImageType.JPEG, image);
    assertArrayEquals(Images.stored(image), parsed.stored());
    assertTrue(Images.jpegSegments(parsed.stored()).stream().anyMatch(s -> s.marker() == 0xE2), "ICC profile kept");
    assertEquals(256, parsed.width());
  }

  @Test
  @DisplayName("A GPS-tagged camera JPEG loses its EXIF block")
  void gps() {
    byte[] stored = parse(ImageType.JPEG, Bodies.fixture("images/gps-tagged.jpg")).stored();
    Map<Integer, Long> tags = Images.jpegExifTags(stored);
    assertFalse(tags.containsKey(Images.GPS_IFD), tags::toString);
    assertTrue(tags.keySet().stream().allMatch(tag -> tag == Images.ORIENTATION), "at most the orientation: " + tags);
  }

  @Test
  @DisplayName("An EXIF orientation other than 1 is written back as a minimal EXIF holding only it; 1 leaves no EXIF")
  void orientation() {
    byte[] rotated = parse(ImageType.JPEG, with(new Images.Segment(0xE1,
      Images.exifPayload(Images.cameraTiff(true, 6))))).stored();
    assertEquals(Map.of(Images.ORIENTATION, 6L), Images.jpegExifTags(rotated));
    assertArrayEquals(Images.jpegScanData(AVATAR), Images.jpegScanData(rotated));

    byte[] upright = parse(ImageType.JPEG, with(new Images.Segment(0xE1,
      Images.exifPayload(Images.cameraTiff(false, 1))))).stored();
    assertArrayEquals(AVATAR, upright);
  }

  @Test
  @DisplayName("An EXIF block larger than what is read of it is dropped whole, its orientation still found")
  void largeExif() {
    byte[] tiff = Images.concat(Images.cameraTiff(true, 3), new byte[20_000]);
    byte[] stored = parse(ImageType.JPEG, with(new Images.Segment(0xE1, Images.exifPayload(tiff)))).stored();
    assertEquals(Map.of(Images.ORIENTATION, 3L), Images.jpegExifTags(stored));
  }

  @Test
  @DisplayName("With stripMetadata off everything is kept")
  void keep() {
    byte[] image = with(new Images.Segment(0xE1, Images.exifPayload(Images.cameraTiff(true, 6))),
      new Images.Segment(0xFE, "comment".getBytes(StandardCharsets.US_ASCII)));
    assertArrayEquals(image, parse(ImageType.JPEG, Parsing.KEEP, image, 1000).stored());
  }

  @Test
  @DisplayName("A frame header after large APPn segments is still found")
  void lateFrameHeader() {
    Parsing.Parsed parsed = parse(ImageType.JPEG, Bodies.fixture("hostile/late-frame-header.jpg"));
    assertTrue(parsed.width() > 0 && parsed.height() > 0);
  }

  @Test
  @DisplayName("Zero padding after the end of the image is accepted; anything else there is refused")
  void trailer() {
    byte[] padded = Images.concat(AVATAR, new byte[100]);
    assertArrayEquals(AVATAR, parse(ImageType.JPEG, padded).stored());
    assertEquals("Data follows the end of the image; polyglot files are refused",
      refused(ImageType.JPEG, Bodies.fixture("hostile/polyglot-jpeg-html.jpg")));
    assertEquals("Data follows the end of the image; polyglot files are refused",
      refused(ImageType.JPEG, Images.concat(AVATAR, new byte[10], new byte[] {1})));
  }

  @Test
  @DisplayName("Pixel floods are refused as soon as the frame header is read")
  void dimensions() {
    assertEquals("The image is 5000×16; the largest side allowed is 4096", refused(ImageType.JPEG, withSize(5000, 16)));
    assertEquals("The image is 16×4097; the largest side allowed is 4096", refused(ImageType.JPEG, withSize(16, 4097)));
    assertEquals("The image has a zero dimension", refused(ImageType.JPEG, withSize(0, 16)));
    assertEquals("The image has 65536 pixels; at most 65535 are allowed",
      refused(ImageType.JPEG, new ImageLimits(4096, 65_535, true), AVATAR));
    Parsing.Parsed atLimit = parse(ImageType.JPEG, new ImageLimits(256, 65_536, true), AVATAR, 1000);
    assertEquals(256, atLimit.width());
  }

  @Test
  @DisplayName("Broken marker structure is refused with what is wrong")
  void broken() {
    assertEquals("Not a JPEG start of image", refused(ImageType.JPEG, bytes(0xFF, 0xD9, 0xFF, 0xD9)));
    assertEquals("A JPEG marker was expected", refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0x00)));
    assertEquals("An unexpected JPEG marker", refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0xFF, 0xD8)));
    assertEquals("An unexpected JPEG marker", refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0xFF, 0x00)));
    assertEquals("A JPEG segment length is out of range", refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0xFF, 0xE0, 0, 1)));
    assertEquals("The JPEG ends before a frame header", refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0xFF, 0xD9)));
    assertEquals("A JPEG scan comes before its frame header",
      refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0xFF, 0xDA, 0, 2)));
    assertEquals("A JPEG frame header is too short",
      refused(ImageType.JPEG, bytes(0xFF, 0xD8, 0xFF, 0xC0, 0, 5, 8, 0, 1)));
    assertEquals("A JPEG frame header is too long", refused(ImageType.JPEG,
      Images.concat(bytes(0xFF, 0xD8, 0xFF, 0xC0, 774 >> 8, 774 & 0xff), new byte[772])));
    assertEquals("The image is truncated", refused(ImageType.JPEG, Bodies.fixture("hostile/truncated.jpg")));
    assertEquals("The image is truncated", refused(ImageType.JPEG, Arrays.copyOf(AVATAR, AVATAR.length - 2)));
  }

  @Test
  @DisplayName("Fill bytes before a marker are accepted and the marker read")
  void fillBytes() {
    // SOI, then APP0 preceded by two fill bytes (T.81 B.1.1.2): stored without the fill bytes.
    byte[] filled = Images.concat(bytes(0xFF, 0xD8, 0xFF, 0xFF), Arrays.copyOfRange(AVATAR, 2, AVATAR.length));
    assertArrayEquals(AVATAR, parse(ImageType.JPEG, filled).stored());
  }
}
