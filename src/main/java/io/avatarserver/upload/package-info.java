/**
 * The upload pipeline: a request body streamed through small stages (size cap, signature check, image
 * parser, hash, coalescing writer under a shared write budget), wired in order by {@link io.avatarserver.upload.UploadSink},
 * into a staged file, with bounded memory and backpressure.
 */
package io.avatarserver.upload;
