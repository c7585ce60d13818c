package jcluster.worker;

import jcluster.app.Handler;
import jcluster.common.WorkerOptions;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds the worker's app: the built-in one, the class {@code --app} names, or the one {@link Handler} provider of
 * the {@code --app-jar}. The jar gets a class loader of its own, a child of the one holding the app API and Netty,
 * so that every worker JVM (and so every reload) reads the jar afresh.
 */
final class AppLoader {
    /** The app could not be loaded or started: the worker exits {@link jcluster.common.ExitCodes#APP_LOAD_FAILED}. */
    static final class AppLoadException extends Exception {
        AppLoadException(String message) {
            super(message);
        }
    }

    record Loaded(Handler handler, ClassLoader loader, String name) {
    }

    private AppLoader() {
    }

    static Loaded load(WorkerOptions.App app) throws AppLoadException {
        if (app.jar() == null && app.className() == null) {
            return new Loaded(new DefaultApp(), AppLoader.class.getClassLoader(), "the built-in app");
        }
        ClassLoader parent = AppLoader.class.getClassLoader();
        ClassLoader loader = parent;
        if (app.jar() != null) {
            if (!Files.isRegularFile(app.jar()) || !Files.isReadable(app.jar())) {
                throw new AppLoadException(app.jar() + " is not a readable file");
            }
            try {
                loader = new URLClassLoader("app", new URL[] {app.jar().toUri().toURL()}, parent);
            } catch (MalformedURLException e) {
                throw new AppLoadException(app.jar() + ": " + e.getMessage());
            }
        }
        if (app.className() != null) {
            return new Loaded(instantiate(app.className(), loader), loader, app.className());
        }
        List<String> found = new ArrayList<>();
        Handler handler = null;
        try {
            for (ServiceLoader.Provider<Handler> p : ServiceLoader.load(Handler.class, loader).stream().toList()) {
                if (p.type().getClassLoader() != loader) {
                    continue;
                }
                found.add(p.type().getName());
                if (handler == null) {
                    handler = p.get();
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new AppLoadException(app.jar() + ": " + describe(e));
        }
        if (found.isEmpty()) {
            throw new AppLoadException(app.jar() + " names no " + Handler.class.getName()
                    + " in META-INF/services/" + Handler.class.getName() + "; add one or name the class with --app");
        }
        if (found.size() > 1) {
            throw new AppLoadException(app.jar() + " names more than one handler " + found + "; choose with --app");
        }
        return new Loaded(handler, loader, found.get(0));
    }

    private static Handler instantiate(String name, ClassLoader loader) throws AppLoadException {
        Class<?> c;
        try {
            c = Class.forName(name, true, loader);
        } catch (ClassNotFoundException e) {
            throw new AppLoadException("class " + name + " not found");
        } catch (LinkageError | RuntimeException e) {
            throw new AppLoadException("class " + name + " failed to load: " + describe(e));
        }
        if (!Handler.class.isAssignableFrom(c)) {
            throw new AppLoadException("class " + name + " does not implement " + Handler.class.getName());
        }
        try {
            return (Handler) c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new AppLoadException("class " + name + " has no public no-argument constructor");
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new AppLoadException("the constructor of " + name + " threw " + describe(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new AppLoadException("cannot create " + name + ": " + describe(e));
        }
    }

    /** The exception and, for the app's own code, where it was thrown: one line, not a stack trace. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.toString());
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            sb.append(", caused by ").append(root);
        }
        StackTraceElement[] st = root.getStackTrace();
        if (st.length > 0) {
            sb.append(" at ").append(st[0]);
        }
        return sb.toString();
    }
}
