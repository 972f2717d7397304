package shepherdbench;

import java.util.Map;

/** Writes maps, lists, long[]/double[] arrays, strings, numbers, booleans and null as one JSON line. */
final class Json {
    private Json() {}

    static String write(Object value) {
        StringBuilder text = new StringBuilder();
        append(text, value);
        return text.toString();
    }

    private static void append(StringBuilder text, Object value) {
        if (value == null) {
            text.append("null");
        } else if (value instanceof Map) {
            text.append('{');
            String separator = "";
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                text.append(separator);
                separator = ",";
                string(text, String.valueOf(entry.getKey()));
                text.append(':');
                append(text, entry.getValue());
            }
            text.append('}');
        } else if (value instanceof Iterable) {
            text.append('[');
            String separator = "";
            for (Object element : (Iterable<?>) value) {
                text.append(separator);
                separator = ",";
                append(text, element);
            }
            text.append(']');
        } else if (value instanceof double[]) {
            text.append('[');
            double[] numbers = (double[]) value;
            for (int i = 0; i < numbers.length; i++) {
                if (i > 0) text.append(',');
                append(text, numbers[i]);
            }
            text.append(']');
        } else if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            // JSON has no NaN or infinity; whole values print without ".0" (as Swift's JSON writer does).
            if (Double.isNaN(number) || Double.isInfinite(number)) text.append("null");
            else if (number == Math.rint(number) && Math.abs(number) < 1e15) text.append((long) number);
            else text.append(number);
        } else if (value instanceof Number || value instanceof Boolean) {
            text.append(value);
        } else {
            string(text, value.toString());
        }
    }

    private static void string(StringBuilder text, String value) {
        text.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') text.append('\\').append(c);
            else if (c == '\n') text.append("\\n");
            else if (c == '\t') text.append("\\t");
            else if (c < 0x20) text.append(String.format("\\u%04x", (int) c));
            else text.append(c);
        }
        text.append('"');
    }
}
