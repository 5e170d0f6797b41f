{#
  Every job function: not executable by PUBLIC, and described for \df+ readers.
#}
{% macro revoke_and_comment(name, comment) %}
REVOKE ALL ON FUNCTION {{ jobs_schema | ident }}.{{ name | ident }}(timestamptz, boolean, integer) FROM PUBLIC;
COMMENT ON FUNCTION {{ jobs_schema | ident }}.{{ name | ident }}(timestamptz, boolean, integer) IS {{ comment | literal }};
{% endmacro %}
