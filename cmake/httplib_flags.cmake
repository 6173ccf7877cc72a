# KLAB_HTTPLIB_DEFINITIONS: the macros libcpp-httplib.so was built with (pkg-config's Cflags of
# cpp-httplib, e.g. CPPHTTPLIB_OPENSSL_SUPPORT), which every unit that includes httplib.h must
# define too. Debian 12's flags when pkg-config cannot say.
set(KLAB_HTTPLIB_DEFINITIONS CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
find_program(KLAB_PKG_CONFIG pkg-config)
if(KLAB_PKG_CONFIG)
  execute_process(COMMAND ${KLAB_PKG_CONFIG} --cflags-only-other cpp-httplib
                  OUTPUT_VARIABLE _klab_httplib_cflags RESULT_VARIABLE _klab_httplib_rc
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_klab_httplib_rc EQUAL 0)
    separate_arguments(_klab_httplib_cflags UNIX_COMMAND "${_klab_httplib_cflags}")
    set(KLAB_HTTPLIB_DEFINITIONS "")
    foreach(_flag IN LISTS _klab_httplib_cflags)
      if(_flag MATCHES "^-D(.+)$")
        list(APPEND KLAB_HTTPLIB_DEFINITIONS "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endif()
endif()
