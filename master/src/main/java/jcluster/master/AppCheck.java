package jcluster.master;

import jcluster.app.Handler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.zip.ZipException;

/**
 * What the master can tell about the app without running its code (user code never runs in the master): the jar
 * is a readable jar that holds the named class, or a {@code META-INF/services} entry for {@link Handler}. Checked at
 * start and before each reload, so the common mistakes get one clear line at once instead of a failed worker.
 */
final class AppCheck {
    static final String SERVICE = "META-INF/services/" + Handler.class.getName();

    private AppCheck() {
    }

    /** Null if the app looks loadable, else what is wrong with it. */
    static String problem(Path jar, String className) {
        if (jar == null) {
            // a class on the class path: its class file is looked up, never loaded
            return className == null || AppCheck.class.getClassLoader().getResource(className.replace('.', '/')
                    + ".class") != null ? null : "no class " + className + " on the class path; give its jar with "
                    + "--app-jar";
        }
        if (!Files.isRegularFile(jar)) {
            return jar + ": no such file";
        }
        if (!Files.isReadable(jar)) {
            return jar + ": not readable";
        }
        try (JarFile j = new JarFile(jar.toFile())) {
            if (className != null) {
                String entry = className.replace('.', '/') + ".class";
                return j.getEntry(entry) == null ? jar + " holds no class " + className : null;
            }
            return j.getEntry(SERVICE) == null
                    ? jar + " has no " + SERVICE + " naming its handler; add one or name the class with --app"
                    : null;
        } catch (ZipException e) {
            return jar + " is not a jar (" + e.getMessage() + ")";
        } catch (IOException e) {
            return jar + ": " + e.getMessage();
        }
    }
}
