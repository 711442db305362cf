/** The S3-compatible object-store adapter of the storage port: one checked, never-overwriting PUT per upload, backpressured GETs. */
package io.avatarserver.storage.s3;
