package io.github.mambadjl.examples.train;

import java.io.IOException;
import java.io.OutputStream;

/** Writes to a file and to the console at once; closing closes the file only. */
final class TeeOutputStream extends OutputStream {

    private final OutputStream file;
    private final OutputStream console;

    TeeOutputStream(OutputStream file, OutputStream console) {
        this.file = file;
        this.console = console;
    }

    @Override
    public void write(int b) throws IOException {
        file.write(b);
        console.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        file.write(b, off, len);
        console.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
        file.flush();
        console.flush();
    }

    @Override
    public void close() throws IOException {
        flush();
        file.close();
    }
}
