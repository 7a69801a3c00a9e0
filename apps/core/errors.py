"""Error reports never carry a secret or a token, in any mode.

Django's debug page and its error e-mails list every frame's local variables, the POST data
and the request's META. In Zhongkong a decrypted app secret or a live token sits in many
frames (ours, and the HTTP library's headers), so the filter shows the names of variables
and POST fields but never their values. Functions that hold secrets are also marked with
`sensitive_variables` / `sensitive_post_parameters`, which this filter honours as Django's
does; the blanket rule covers the frames of libraries that cannot be marked."""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True  # also with DEBUG on

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_post_parameters(self, request):
        if request is None:
            return {}
        cleansed = request.POST.copy()
        for name in cleansed:
            cleansed[name] = self.cleansed_substitute
        return cleansed
