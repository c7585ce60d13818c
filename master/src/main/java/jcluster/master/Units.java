package jcluster.master;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;

/** Sizes ("512k", "1m") and durations ("500ms", "5s", "2m", "1h") as users write them on the command line. */
final class Units {
    private Units() {
    }

    static long parseSize(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
            case 'k' -> unit = 1L << 10;
            case 'm' -> unit = 1L << 20;
            case 'g' -> unit = 1L << 30;
            default -> { }
        }
        if (unit != 1) {
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new IllegalArgumentException("'" + s + "' is negative");
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + s + "' is not a size (like 1048576, 512k or 1m)");
        }
    }

    static Duration parseDuration(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("0")) {
            return Duration.ZERO;
        }
        try {
            if (v.endsWith("ms")) {
                return nonNegative(Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2))), s);
            }
            if (v.endsWith("s")) {
                return nonNegative(Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1))), s);
            }
            if (v.endsWith("m")) {
                return nonNegative(Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1))), s);
            }
            if (v.endsWith("h")) {
                return nonNegative(Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1))), s);
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("'" + s + "' is not a duration (like 500ms, 5s, 2m or 1h)");
    }

    /** A flag's value as a user would write it: durations in their largest whole unit, others as they are. */
    static String format(Object v) {
        if (v instanceof Duration d) {
            long ms = d.toMillis();
            if (ms == 0) {
                return "0";
            }
            if (ms % 3_600_000 == 0) {
                return ms / 3_600_000 + "h";
            }
            if (ms % 60_000 == 0) {
                return ms / 60_000 + "m";
            }
            return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
        }
        return String.valueOf(v);
    }

    private static Duration nonNegative(Duration d, String s) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("'" + s + "' is negative");
        }
        return d;
    }

    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parseSize(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parseDuration(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
