/** The libvips render engine through JNA (only the JPEG, PNG, WebP and GIF loaders), and the choice between the engines. */
package io.avatarserver.variant.vips;
