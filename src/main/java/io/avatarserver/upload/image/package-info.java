/**
 * Image formats and their streaming parsers, which read dimensions, refuse broken or hostile images
 * and strip metadata without decoding pixels; this package depends on nothing in {@code upload}.
 */
package io.avatarserver.upload.image;
