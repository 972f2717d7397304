package shepherdbench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** {@code --name value} or {@code --name=value} options; what a mode reads is echoed into the JSON. */
final class Options {
    static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageError(String message) { super(message); }
    }

    private final Map<String, String> given = new LinkedHashMap<>();
    private final Map<String, Object> read = new LinkedHashMap<>();

    Options(String[] argv, int from) {
        for (int i = from; i < argv.length; i++) {
            String word = argv[i];
            if (!word.startsWith("--")) throw new UsageError("expected --option, got " + word);
            int equals = word.indexOf('=');
            if (equals > 0) {
                given.put(word.substring(2, equals), word.substring(equals + 1));
            } else if (i + 1 < argv.length) {
                given.put(word.substring(2), argv[++i]);
            } else {
                throw new UsageError("no value for " + word);
            }
        }
    }

    Map<String, Object> echo() { return read; }

    String text(String name, String fallback) {
        String value = given.getOrDefault(name, fallback);
        if (value == null) throw new UsageError("--" + name + " is required");
        read.put(name, value);
        return value;
    }

    int whole(String name, int fallback, int min, int max) {
        return number(name, fallback, min, max, Integer::valueOf, "a whole number");
    }

    double decimal(String name, double fallback, double min, double max) {
        return number(name, fallback, min, max, Double::valueOf, "a number");
    }

    private <T extends Comparable<T>> T number(String name, T fallback, T min, T max, Function<String, T> parse, String kind) {
        String value = given.get(name);
        T number;
        try {
            number = value == null ? fallback : parse.apply(value);
        } catch (NumberFormatException e) {
            throw new UsageError("--" + name + " takes " + kind + ", not " + value);
        }
        // compareTo, not < and >: a NaN Double compares above max and is refused.
        if (number.compareTo(min) < 0 || number.compareTo(max) > 0) {
            throw new UsageError("--" + name + " must be in " + min + "..." + max);
        }
        read.put(name, number);
        return number;
    }

    /** After a mode has read its options: a misspelt one fails before any work is done. */
    void finish() {
        for (String name : given.keySet()) {
            if (!read.containsKey(name)) throw new UsageError("unknown option --" + name);
        }
    }
}
