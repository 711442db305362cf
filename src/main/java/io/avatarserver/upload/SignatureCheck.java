package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.buffer.Buffer;

/**
 * The signature stage: holds the body's first {@link ImageType#SNIFF_BYTES} bytes until their magic
 * bytes can be judged against the declared type, then passes them on with the rest of that chunk, and
 * every later chunk as it is. Nothing reaches the parser before the type is confirmed.
 */
final class SignatureCheck {

  private final ImageType declared;
  private final byte[] head = new byte[ImageType.SNIFF_BYTES];
  private int headLength;
  private boolean checked;

  SignatureCheck(ImageType declared) {
    this.declared = declared;
  }

  /**
   * What to pass on for {@code chunk}: null while the signature is incomplete (its bytes are held
   * here), the held bytes followed by the chunk's rest when this chunk completes it, then the chunk.
   *
   * @throws AvatarException CONTENT_TYPE_MISMATCH or UNSUPPORTED_TYPE when the signature contradicts
   *                         the declared type
   */
  Buffer admit(Buffer chunk) {
    if (checked) {
      return chunk;
    }
    int take = Math.min(chunk.length(), head.length - headLength);
    chunk.getBytes(0, take, head, headLength);
    headLength += take;
    if (headLength < head.length) {
      return null;
    }
    checked = true;
    if (ImageType.sniff(head, headLength) != declared) {
      throw mismatch();
    }
    return Buffer.buffer(head.length + chunk.length() - take).appendBytes(head)
      .appendBuffer(chunk, take, chunk.length() - take);
  }

  /**
   * The body is complete: what is still held (a body shorter than the signature window, possible only
   * with a {@code minBytes} below it), judged on what there is; null when everything was passed on.
   *
   * @throws AvatarException as {@link #admit}
   */
  Buffer end() {
    if (checked) {
      return null;
    }
    if (ImageType.sniff(head, headLength) != declared) {
      throw mismatch();
    }
    checked = true;
    return Buffer.buffer(headLength).appendBytes(head, 0, headLength);
  }

  private AvatarException mismatch() {
    ImageType actual = ImageType.sniff(head, headLength);
    return actual == null
      ? Failure.UNSUPPORTED_TYPE.exception("The content is not a JPEG, PNG, GIF or WebP image")
      : Failure.CONTENT_TYPE_MISMATCH.exception(
          "Declared " + declared.mediaType() + " but the content is " + actual.mediaType());
  }
}
